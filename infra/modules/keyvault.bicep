// Key Vault (RBAC mode, soft delete and purge protection) for the service's secrets: the
// template key, the liveness token key, their previous keys and the subscription keys.
// Bicep never writes a secret value: infra/hooks/ensure_secrets.py creates each secret once,
// on first provisioning, so a re-deploy can never replace a key (templates and liveness
// tokens sealed under it would become unreadable). With customer-managed keys, the encryption
// keys of the storage account (and of the PostgreSQL server with searchEngine=postgres) live here too.
param name string
param location string
param tags object
param appPrincipalId string
param privateNetwork bool
param customerManagedKey bool
param encryptionPrincipalId string
param encryptionKeyNames array

var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var cryptoServiceEncryptionUser = 'e147488a-f6f5-4113-8e2d-b22465e65bf6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: privateNetwork ? 'Disabled' : 'Enabled'
    networkAcls: {
      // checkov:skip=CKV_AZURE_109: with network=public the vault must accept the Functions platform resolving Key Vault references over the public endpoint; network=private disables public access entirely
      defaultAction: privateNetwork ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource appReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, secretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Customer-managed keys (optional), one per encrypted service: RSA 3072 in software-protected
// keys, rotated by Key Vault every year; storage and PostgreSQL always use the latest version.
resource encryptionKeys 'Microsoft.KeyVault/vaults/keys@2023-07-01' = [for keyName in (customerManagedKey ? encryptionKeyNames : []): {
  parent: vault
  name: keyName
  properties: {
    // checkov:skip=CKV_AZURE_112: HSM-backed keys need the premium vault SKU; choose it if your policy requires HSM keys
    kty: 'RSA'
    keySize: 3072
    keyOps: [
      'wrapKey'
      'unwrapKey'
    ]
    attributes: {
      enabled: true
      exp: 4102444800 // 2100-01-01: rotation (below) replaces the version long before
    }
    rotationPolicy: {
      attributes: {
        expiryTime: 'P2Y'
      }
      lifetimeActions: [
        {
          action: {
            type: 'rotate'
          }
          trigger: {
            timeAfterCreate: 'P1Y'
          }
        }
      ]
    }
  }
}]

// The encryption identity (user-assigned to the storage account and the PostgreSQL server) wraps
// and unwraps their keys; nothing else.
resource encryptionUnwrapsKeys 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (customerManagedKey) {
  name: guid(vault.id, encryptionPrincipalId, cryptoServiceEncryptionUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cryptoServiceEncryptionUser)
    principalId: encryptionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
