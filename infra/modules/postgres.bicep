// Azure Database for PostgreSQL flexible server for searchEngine=postgres: PersonDirectory,
// LargePersonGroup and LargeFaceList templates searched with pgvector (docs/deploy.md, "The
// postgres search engine").
//
// Microsoft Entra ID authentication only: password authentication is disabled and no
// administrator login or password exists anywhere. The app's user-assigned managed identity is
// the server's Entra administrator, so its database role exists from the start; the app signs in
// as that role with an Entra token and creates the vector extension and its tables itself on
// first connect (the extensions only have to be allow-listed here).
//
// clusterNodes > 0 makes the server an elastic cluster (managed Citus, PostgreSQL 17 only): one
// database per cluster (its default database, named `face` like the single server's), no storage
// autogrow, reached through the coordinator on port 5432 like a single server.
param name string
param location string
param tags object
param appIdentityName string
param appPrincipalId string
param skuName string
param skuTier string
param storageSizeGB int
param highAvailability string
param backupRetentionDays int
param geoRedundantBackup bool
param clusterNodes int
param privateNetwork bool
param customerManagedKey bool
param encryptionIdentityId string
param keyUri string

var databaseName = 'face'
var elasticCluster = clusterNodes > 0
// A geo-redundant backup under a customer-managed key needs a second key vault and identity in the
// paired region, which this template does not create: with the key, backups stay in the region.
var geoBackup = geoRedundantBackup && !customerManagedKey
// Allow-listed for CREATE EXTENSION; the app creates `vector` (and may create `pg_diskann`).
var allowedExtensions = 'VECTOR,PG_DISKANN'

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2025-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  // Only to reach the customer-managed key in Key Vault (the same encryption identity as storage).
  identity: customerManagedKey ? {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${encryptionIdentityId}': {}
    }
  } : null
  properties: {
    version: '17'
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: subscription().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGB
      // Elastic clusters cannot grow storage automatically: size them with storageSizeGB.
      autoGrow: elasticCluster ? 'Disabled' : 'Enabled'
    }
    backup: {
      // Point-in-time restore backups keep deleted templates for this many days (7 at least).
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: geoBackup ? 'Enabled' : 'Disabled'
    }
    highAvailability: {
      mode: highAvailability
    }
    network: {
      // private: reached only through the private endpoint in the VNet (modules/network.bicep).
      publicNetworkAccess: privateNetwork ? 'Disabled' : 'Enabled'
    }
    dataEncryption: customerManagedKey ? {
      type: 'AzureKeyVault'
      // A versionless key URI: the server follows the key's yearly rotation in Key Vault by itself.
      primaryKeyURI: keyUri
      primaryUserAssignedIdentityId: encryptionIdentityId
    } : {
      type: 'SystemManaged'
    }
    cluster: elasticCluster ? {
      clusterSize: clusterNodes
      defaultDatabaseName: databaseName
    } : null
  }
}

// The app's managed identity as the Entra administrator: its role (named after the identity) can
// create the extension, the tables and, on a cluster, distribute them. A flexible server applies
// one change at a time, hence the dependsOn chain through the children below.
resource appAdministrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2025-08-01' = {
  parent: server
  name: appPrincipalId
  properties: {
    principalType: 'ServicePrincipal'
    principalName: appIdentityName
    tenantId: subscription().tenantId
  }
}

resource extensions 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2025-08-01' = {
  parent: server
  name: 'azure.extensions'
  properties: {
    value: allowedExtensions
    source: 'user-override'
  }
  dependsOn: [
    appAdministrator
  ]
}

// A cluster has exactly one database, named by cluster.defaultDatabaseName above.
resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2025-08-01' = if (!elasticCluster) {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    extensions
  ]
}

// network=public: the Function App has no VNet and Flex Consumption has no fixed outbound
// addresses, so the only rule that lets it in is "Azure services" (0.0.0.0). Connections still
// need an Entra token of this tenant for a role of this server (no passwords exist) and TLS.
resource azureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2025-08-01' = if (!privateNetwork) {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
  dependsOn: [
    extensions
    database
  ]
}

output id string = server.id
output host string = server.properties.fullyQualifiedDomainName
// The coordinator's port on a cluster too: the app's schema set-up (DDL, create_distributed_table)
// must run there, and queries work there as well.
output port int = 5432
output database string = databaseName
output user string = appAdministrator.properties.principalName
