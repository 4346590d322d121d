// The self-hosted Face API in your own subscription (azd: `azd up`; see docs/deploy.md).
//
// One resource group holding: a user-assigned managed identity, Key Vault (secrets), a storage
// account (tables, blobs, queues, deployment package), Log Analytics + Application Insights,
// the Function App on Flex Consumption, with network=private a VNet with private endpoints,
// and with searchEngine=postgres an Azure Database for PostgreSQL flexible server. No secret
// is written by this template or appears in its outputs: keys are created once by
// infra/hooks/ensure_secrets.py and reach the app as Key Vault references.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('azd environment name; names the resource group and seeds resource names.')
param environmentName string

@minLength(1)
@description('Azure region of every resource (one that offers Flex Consumption).')
param location string

@allowed([
  2048
  4096
])
@description('Memory of each instance (MB). The warm index cache gets all but 1 GB of it; see docs/deploy.md for gallery sizes.')
param instanceMemoryMB int = 2048

@minValue(1)
@maxValue(1000)
@description('Upper bound of instances the app scales out to (also bounds cost).')
param maximumInstanceCount int = 40

@minValue(0)
@maxValue(20)
@description('Instances kept warm for HTTP functions (0 = scale to zero; each one is billed while idle).')
param alwaysReadyInstances int = 0

@allowed([
  'public'
  'private'
])
@description('private: VNet integration for the app, private endpoints and DNS for storage and Key Vault, public network access disabled on both.')
param network string = 'public'

@description('Client id of the Entra ID app registration with the Face.Admin / Face.Recognizer app roles (set by infra/hooks/ensure_app_registration.py when FACE_ENTRA_AUTH=true). Empty: subscription keys only.')
param entraClientId string = ''

@description('Encrypt the storage account with a customer-managed key held in the Key Vault.')
param customerManagedKey bool = false

@description('Prefix of every table, container and queue (1-20 lowercase letters/digits).')
param storagePrefix string = 'face'

@description('NCRONTAB schedule of the sweep (expired faceIds, liveness sessions, orphans).')
param sweepSchedule string = '0 */5 * * * *'

@allowed([
  'S0'
  'F0'
])
@description('Azure Face tier whose gallery limits the service enforces.')
param tier string = 'S0'

@description('Extra or overriding app settings, e.g. {"FACE_INDEX_EF": "96"}; see README "Settings".')
param settingOverrides object = {}

@allowed([
  'embedded'
  'postgres'
])
@description('Search engine of PersonDirectory, LargePersonGroup and LargeFaceList: embedded (HNSW snapshots in Blob Storage) or postgres (Azure Database for PostgreSQL flexible server with pgvector, Entra ID authentication only; docs/deploy.md).')
param searchEngine string = 'embedded'

@description('postgres: compute size of the server (of each node of a cluster), e.g. Standard_B2s, Standard_D2ds_v5, Standard_E4ds_v5.')
param postgresSkuName string = 'Standard_D2ds_v5'

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
@description('postgres: compute tier matching postgresSkuName (Burstable has no high availability).')
param postgresSkuTier string = 'GeneralPurpose'

@allowed([
  32
  64
  128
  256
  512
  1024
  2048
  4096
  8192
  16384
  32767
])
@description('postgres: storage (GiB) of the server (of each node of a cluster); grows automatically on a single server.')
param postgresStorageSizeGB int = 64

@allowed([
  'Disabled'
  'SameZone'
  'ZoneRedundant'
])
@description('postgres: a synchronous standby in another zone (ZoneRedundant) or the same zone (SameZone); doubles the compute and storage cost.')
param postgresHighAvailability string = 'Disabled'

@minValue(7)
@maxValue(35)
@description('postgres: days of point-in-time restore backups (deleted templates stay in them that long).')
param postgresBackupRetentionDays int = 7

@description('postgres: copy backups to the paired region (not with customerManagedKey, which would need a key vault there).')
param postgresGeoRedundantBackup bool = false

@minValue(0)
@maxValue(20)
@description('postgres: 0 = a single server; more = an elastic cluster (managed Citus, PostgreSQL 17) of that many nodes; the app distributes its tables by person (docs/scale.md).')
param postgresClusterNodes int = 0

var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var privateNetwork = network == 'private'
var postgresEngine = searchEngine == 'postgres'
var deploymentContainerName = 'app-package'
var storageKeyName = 'storage-encryption'
var postgresKeyName = 'postgres-encryption'
var postgresServerName = 'psql-face-${token}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: rg
  name: 'identity'
  params: {
    name: 'id-face-${token}'
    location: location
    tags: tags
  }
}

module encryptionIdentity 'modules/identity.bicep' = if (customerManagedKey) {
  scope: rg
  name: 'encryption-identity'
  params: {
    name: 'id-face-storage-${token}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: {
    workspaceName: 'log-face-${token}'
    appInsightsName: 'appi-face-${token}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
  }
}

module vault 'modules/keyvault.bicep' = {
  scope: rg
  name: 'keyvault'
  params: {
    name: 'kv-face-${take(token, 15)}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    privateNetwork: privateNetwork
    customerManagedKey: customerManagedKey
    encryptionPrincipalId: customerManagedKey ? encryptionIdentity.outputs.principalId : ''
    encryptionKeyNames: postgresEngine ? [
      storageKeyName
      postgresKeyName
    ] : [
      storageKeyName
    ]
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  name: 'storage'
  params: {
    name: 'stface${take(token, 17)}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    deploymentContainerName: deploymentContainerName
    privateNetwork: privateNetwork
    customerManagedKey: customerManagedKey
    encryptionIdentityId: customerManagedKey ? encryptionIdentity.outputs.id : ''
    keyVaultUri: vault.outputs.uri
    keyName: storageKeyName
  }
}

// searchEngine=postgres: the app's identity is the server's Entra administrator (its database
// principal); the encryption identity unwraps the server's customer-managed key.
module postgres 'modules/postgres.bicep' = if (postgresEngine) {
  scope: rg
  name: 'postgres'
  params: {
    name: postgresServerName
    location: location
    tags: tags
    appIdentityName: identity.outputs.name
    appPrincipalId: identity.outputs.principalId
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGB: postgresStorageSizeGB
    highAvailability: postgresHighAvailability
    backupRetentionDays: postgresBackupRetentionDays
    geoRedundantBackup: postgresGeoRedundantBackup
    clusterNodes: postgresClusterNodes
    privateNetwork: privateNetwork
    customerManagedKey: customerManagedKey
    encryptionIdentityId: customerManagedKey ? encryptionIdentity.outputs.id : ''
    keyUri: customerManagedKey ? '${vault.outputs.uri}keys/${postgresKeyName}' : ''
  }
}

module vnet 'modules/network.bicep' = if (privateNetwork) {
  scope: rg
  name: 'network'
  params: {
    name: 'vnet-face-${token}'
    location: location
    tags: tags
    storageAccountId: storage.outputs.id
    keyVaultId: vault.outputs.id
    postgresServerId: postgresEngine ? postgres.outputs.id : ''
  }
}

// Key Vault references to the secrets infra/hooks/ensure_secrets.py creates: '${secretRef}<name>)'.
var secretRef = '@Microsoft.KeyVault(VaultName=${vault.outputs.name};SecretName='

// Every app setting, in one place. tests/deploy/test_settings.py derives the settings the code
// reads and fails until each one is here: set, or '' where the code's default is the
// deliberate choice (blank counts as unset in shared/settings.py). Override any of them with
// the settingOverrides parameter.
var appSettings = {
  // Storage through the managed identity (Functions identity-based connection).
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  // Telemetry: OpenTelemetry to Application Insights, authenticated as the managed identity.
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identity.outputs.clientId}'
  PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
  // Keys (Key Vault references; created once by the postprovision hook).
  FACE_TEMPLATE_KEY: '${secretRef}face-template-key)'
  FACE_TEMPLATE_OLD_KEYS: '${secretRef}face-template-old-keys)'
  FACE_LIVENESS_TOKEN_KEY: '${secretRef}face-liveness-token-key)'
  FACE_LIVENESS_TOKEN_OLD_KEYS: '${secretRef}face-liveness-token-old-keys)'
  FACE_ADMIN_KEYS: '${secretRef}face-admin-keys)'
  FACE_RECOGNIZER_KEYS: '${secretRef}face-recognizer-keys)'
  // Access and storage layout.
  FACE_TRUST_EASYAUTH: empty(entraClientId) ? 'false' : 'true'
  FACE_STORAGE_PREFIX: storagePrefix
  FACE_SWEEP_SCHEDULE: sweepSchedule
  FACE_TIER: tier
  FACE_QUOTA_FACES_PER_PERSON: ''
  // Per-credential rate limits (per instance) and the work-queue bound: the code's defaults.
  FACE_RATE_ADMIN_PER_SECOND: ''
  FACE_RATE_ADMIN_BURST: ''
  FACE_RATE_RECOGNIZER_PER_SECOND: ''
  FACE_RATE_RECOGNIZER_BURST: ''
  FACE_QUEUE_MAX_MESSAGES: ''
  // Storage calls: 5 s per attempt, 2 retries, then 503 + Retry-After (the code's defaults).
  FACE_STORAGE_TIMEOUT_SECONDS: ''
  FACE_STORAGE_RETRIES: ''
  // Long-running operations (48 h retention, 600 s without progress = abandoned) and the
  // directory's compaction triggers and holds: the code's defaults (docs/directory.md).
  FACE_OPERATION_RETENTION_HOURS: ''
  FACE_OPERATION_TIMEOUT_SECONDS: ''
  FACE_DIRECTORY_DELTA_LIMIT: ''
  FACE_DIRECTORY_PURGE_SECONDS: ''
  FACE_DIRECTORY_COMPACTION_TIMEOUT_SECONDS: ''
  FACE_DIRECTORY_REMOVAL_HOLD_SECONDS: ''
  // Liveness: 48 h retention and per-device attempt limits (the code's defaults).
  FACE_LIVENESS_RETENTION_SECONDS: ''
  FACE_LIVENESS_DEVICE_ATTEMPTS: ''
  FACE_LIVENESS_DEVICE_WINDOW_SECONDS: ''
  // Liveness v1.3: client addresses come from App Service's front end (X-Forwarded-For);
  // abuse-monitoring thresholds and the settings cache: the code's defaults.
  FACE_TRUSTED_PROXIES: 'AppServiceFrontEnd'
  FACE_LIVENESS_ABUSE_MATCH_CONFIDENCE: ''
  FACE_LIVENESS_ABUSE_FARM_FACES: ''
  FACE_LIVENESS_ABUSE_FARM_WINDOW_SECONDS: ''
  FACE_ACCOUNT_SETTINGS_CACHE_SECONDS: ''
  FACE_CLIENT_ASSETS_TOKEN_SECONDS: ''
  // Never in Azure: local development and test switches.
  FACE_ALLOW_PRIVATE_URLS: 'false'
  FACE_ALLOW_TEST_CLOCK: 'false'
  FACE_CLOCK_OFFSET_SECONDS: ''
  // Models ship inside the package (.cache/models, the code's default); nothing is fetched.
  FACE_MODEL_MIRRORS: ''
  FACE_MODEL_CACHE: ''
  FACE_RECOGNITION_EMBEDDERS: ''
  FACE_ARCFACE_MODELS: ''
  // Engine and request limits: the code's defaults.
  FACE_URL_TIMEOUT_SECONDS: ''
  FACE_MAX_IMAGE_PIXELS: ''
  FACE_DETECT_SCORE: ''
  FACE_DETECT_MIN_FACE_PX: ''
  FACE_DETECT_MAX_SIDE: ''
  FACE_ORT_THREADS: ''
  FACE_WARM_UP_ATTRIBUTE_MODELS: ''
  FACE_TRAINING_TIMEOUT_SECONDS: ''
  FACE_ORPHAN_MIN_AGE_SECONDS: ''
  FACE_ORPHAN_SWEEP_INTERVAL_SECONDS: ''
  // Index: the warm cache fits the instance (all but 1 GB for the runtime and models).
  FACE_INDEX_CACHE_MB: string(instanceMemoryMB - 1024)
  FACE_INDEX_THREADS: ''
  FACE_INDEX_M: ''
  FACE_INDEX_EF_CONSTRUCTION: ''
  FACE_INDEX_EF: ''
  FACE_INDEX_EF_REFERENCE_SIZE: ''
  FACE_INDEX_EF_MAX: ''
  FACE_INDEX_EXACT_THRESHOLD: ''
  FACE_INDEX_GROUP_FACES: ''
  FACE_INDEX_RERANK_GROUPS: ''
  FACE_INDEX_CPU_VARIANT: ''
  // Search engine of the directory and the large galleries. postgres: the app signs in to the
  // server as its managed identity (the database principal named after it) with an Entra token:
  // no password anywhere, and FACE_POSTGRES_URL (local development) stays empty.
  FACE_SEARCH_ENGINE: searchEngine
  FACE_POSTGRES_HOST: postgresEngine ? postgres.outputs.host : ''
  FACE_POSTGRES_PORT: postgresEngine ? string(postgres.outputs.port) : ''
  FACE_POSTGRES_DATABASE: postgresEngine ? postgres.outputs.database : ''
  FACE_POSTGRES_USER: postgresEngine ? postgres.outputs.user : ''
  FACE_POSTGRES_CLIENT_ID: postgresEngine ? identity.outputs.clientId : ''
  FACE_POSTGRES_SSLMODE: postgresEngine ? 'require' : ''
  FACE_POSTGRES_URL: ''
  // Pool, search and removal-record tuning of the postgres engine: the code's defaults (README).
  FACE_POSTGRES_POOL_SIZE: ''
  FACE_POSTGRES_TIMEOUT_SECONDS: ''
  FACE_POSTGRES_EF_SEARCH: ''
  FACE_POSTGRES_HNSW_M: ''
  FACE_POSTGRES_HNSW_EF_CONSTRUCTION: ''
  FACE_POSTGRES_EXACT_FACES: ''
  FACE_POSTGRES_EXACT_PERSONS: ''
  FACE_POSTGRES_REMOVAL_RETENTION_SECONDS: ''
}

module app 'modules/functionapp.bicep' = {
  scope: rg
  name: 'functionapp'
  params: {
    name: 'func-face-${token}'
    planName: 'plan-face-${token}'
    location: location
    tags: union(tags, {
      'azd-service-name': 'api'
    })
    identityId: identity.outputs.id
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${deploymentContainerName}'
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyInstances: alwaysReadyInstances
    appSubnetId: privateNetwork ? vnet.outputs.appSubnetId : ''
    appSettings: union(appSettings, settingOverrides)
    entraClientId: entraClientId
    entraTenantId: subscription().tenantId
  }
}

output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.name
output FACE_ENDPOINT string = 'https://${app.outputs.defaultHostName}'
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
output AZURE_POSTGRES_SERVER_NAME string = postgresEngine ? postgresServerName : ''
