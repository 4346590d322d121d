// The storage account behind AzureWebJobsStorage: the app's tables (encrypted templates,
// faceIds, gallery rows), blob containers (encrypted index snapshots), queues (training work),
// the Functions host's own state, and the deployment package container.
//
// Blob soft delete, container soft delete and versioning are off on purpose: deleting a
// person, face or gallery must really delete its templates and index snapshots, and a
// soft-deleted or versioned blob would keep them recoverable for the retention period.
// Tables have no soft delete. Account keys (shared-key access) are off: only Entra ID.
param name string
param location string
param tags object
param appPrincipalId string
param deploymentContainerName string
param privateNetwork bool
param customerManagedKey bool
param encryptionIdentityId string
param keyVaultUri string
param keyName string

var blobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var queueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var tableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_206: replication is a cost and residency choice: LRS keeps the biometric templates in one region; pick ZRS or GZRS where you need zone or geo redundancy
  // checkov:skip=CKV_AZURE_35: network=public keeps the public endpoint open (the app has no VNet then); network=private disables public network access and denies by default
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  identity: customerManagedKey ? {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${encryptionIdentityId}': {}
    }
  } : null
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: privateNetwork ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateNetwork ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: customerManagedKey ? 'Microsoft.Keyvault' : 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      identity: customerManagedKey ? {
        userAssignedIdentity: encryptionIdentityId
      } : null
      keyvaultproperties: customerManagedKey ? {
        keyname: keyName
        keyvaulturi: keyVaultUri
      } : null
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // Off on purpose: deletion must really delete templates and index snapshots (see the top of this file).
    deleteRetentionPolicy: {
      enabled: false
    }
    containerDeleteRetentionPolicy: {
      enabled: false
    }
    isVersioningEnabled: false
    changeFeed: {
      enabled: false
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Least privilege for the app and its host: blob owner is what the Functions host needs on
// AzureWebJobsStorage (leases, the deployment package); queue and table contributor are what
// the training queue and the app's tables need. Nothing at the management plane.
var dataRoles = [
  blobDataOwner
  queueDataContributor
  tableDataContributor
]

resource appDataRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in dataRoles: {
  name: guid(account.id, appPrincipalId, role)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
