// network=private: a VNet whose "app" subnet hosts the Function App's outbound traffic (Flex
// Consumption VNet integration, delegated to Microsoft.App/environments) and whose "endpoints"
// subnet holds private endpoints for the storage account (blob, queue, table) and Key Vault,
// each resolved through a private DNS zone linked to the VNet. Both resources have public
// network access disabled (modules/storage.bicep, modules/keyvault.bicep). With
// searchEngine=postgres the PostgreSQL server gets its endpoint there too (modules/postgres.bicep).
param name string
param location string
param tags object
param storageAccountId string
param keyVaultId string
@description('The PostgreSQL flexible server of searchEngine=postgres; empty: none.')
param postgresServerId string = ''
param addressPrefix string = '10.40.0.0/16'
param appSubnetPrefix string = '10.40.0.0/24'
param endpointSubnetPrefix string = '10.40.1.0/24'

var storageAndVaultEndpoints = [
  {
    name: 'blob'
    target: storageAccountId
    zone: 'privatelink.blob.${environment().suffixes.storage}'
  }
  {
    name: 'queue'
    target: storageAccountId
    zone: 'privatelink.queue.${environment().suffixes.storage}'
  }
  {
    name: 'table'
    target: storageAccountId
    zone: 'privatelink.table.${environment().suffixes.storage}'
  }
  {
    name: 'vault'
    target: keyVaultId
    zone: 'privatelink.vaultcore.azure.net'
  }
]
// The endpoint's name is its group id, as above; the zone is the one Azure's DNS integration uses.
var postgresEndpoints = empty(postgresServerId) ? [] : [
  {
    name: 'postgresqlServer'
    target: postgresServerId
    zone: 'privatelink.postgres.database.azure.com'
  }
]
var endpoints = concat(storageAndVaultEndpoints, postgresEndpoints)

resource appSubnetNsg 'Microsoft.Network/networkSecurityGroups@2023-11-01' = {
  name: '${name}-app-nsg'
  location: location
  tags: tags
}

resource endpointSubnetNsg 'Microsoft.Network/networkSecurityGroups@2023-11-01' = {
  name: '${name}-endpoints-nsg'
  location: location
  tags: tags
}

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          networkSecurityGroup: {
            id: appSubnetNsg.id
          }
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'endpoints'
        properties: {
          addressPrefix: endpointSubnetPrefix
          networkSecurityGroup: {
            id: endpointSubnetNsg.id
          }
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [for endpoint in endpoints: {
  name: endpoint.zone
  location: 'global'
  tags: tags
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [for (endpoint, i) in endpoints: {
  parent: zones[i]
  name: '${name}-link'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2023-11-01' = [for endpoint in endpoints: {
  name: '${name}-${endpoint.name}-pe'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: vnet.properties.subnets[1].id
    }
    privateLinkServiceConnections: [
      {
        name: endpoint.name
        properties: {
          privateLinkServiceId: endpoint.target
          groupIds: [
            endpoint.name
          ]
        }
      }
    ]
  }
}]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2023-11-01' = [for (endpoint, i) in endpoints: {
  parent: privateEndpoints[i]
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: endpoint.name
        properties: {
          privateDnsZoneId: zones[i].id
        }
      }
    ]
  }
}]

output appSubnetId string = vnet.properties.subnets[0].id
