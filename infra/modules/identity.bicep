// The app's user-assigned managed identity: storage, Key Vault references and telemetry all
// authenticate as this one principal (no keys or connection strings anywhere).
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
