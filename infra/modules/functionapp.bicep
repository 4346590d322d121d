// The Function App on a Flex Consumption plan (Linux, Python 3.11): HTTPS only, TLS 1.2+,
// FTP and basic-auth publishing off, the deployment package read from a blob container as the
// app's managed identity, and optionally App Service authentication (Entra ID) in front.
param name string
param planName string
param location string
param tags object
param identityId string
param deploymentContainerUrl string
param instanceMemoryMB int
param maximumInstanceCount int
param alwaysReadyInstances int
param appSubnetId string
param appSettings object
param entraClientId string
param entraTenantId string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy on Flex Consumption is region-dependent; enable it where your region offers it
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_17: client certificates are not part of the Azure Face API protocol (keys or Entra ID tokens are)
  // checkov:skip=CKV_AZURE_222: the Face API must be reachable by its clients; put API Management or Front Door in front for a private front end
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales out on demand (maximumInstanceCount); alwaysReadyInstances keeps instances warm
  // checkov:skip=CKV_AZURE_213: Flex Consumption has no App Service health check; GET /health is the readiness probe for your monitors
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [for setting in items(appSettings): {
        name: setting.key
        value: setting.value
      }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReadyInstances > 0 ? [
          {
            name: 'http'
            instanceCount: alwaysReadyInstances
          }
        ] : []
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

// App Service authentication validates Entra ID bearer tokens for the app registration
// (infra/hooks/ensure_app_registration.py) and forwards the caller's app roles in
// X-MS-CLIENT-PRINCIPAL, stripping any such header a client sent. Unauthenticated requests
// still reach the app, which accepts subscription keys and answers 401 otherwise.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(entraClientId)) {
  // checkov:skip=CKV_AZURE_13: this is the authentication configuration itself (checkov reads sites/config children as whole web apps)
  // checkov:skip=CKV_AZURE_63: not a web app: the site's logs go to Application Insights through OpenTelemetry
  // checkov:skip=CKV_AZURE_65: not a web app (see CKV_AZURE_63)
  // checkov:skip=CKV_AZURE_66: not a web app (see CKV_AZURE_63)
  // checkov:skip=CKV_AZURE_80: not a web app, and no .NET anywhere (Python 3.11)
  // checkov:skip=CKV_AZURE_88: not a web app; Flex Consumption reads its package from blob storage, not Azure Files
  // checkov:skip=CKV_AZURE_222: not a web app (see CKV_AZURE_222 on the site)
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: entraClientId
          openIdIssuer: 'https://sts.windows.net/${entraTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${entraClientId}'
            entraClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
