#!/usr/bin/env bash
# Creates the RAM role both functions run as, with the least privilege they need: the four
# backup actions on the allowed instances, and log writes to the one logstore. Run it once,
# from the repository root, with the aliyun CLI logged in as an account that may manage RAM.
# Optional policies (tag selection, failure destination) are attached by hand: docs/deploy.md.
set -euo pipefail

: "${DDS_BACKUP_REGION:?set DDS_BACKUP_REGION, e.g. cn-hangzhou}"
: "${DDS_BACKUP_ALLOWED_INSTANCE_IDS:?set DDS_BACKUP_ALLOWED_INSTANCE_IDS, comma-separated}"
: "${DDS_BACKUP_LOG_PROJECT:?set DDS_BACKUP_LOG_PROJECT, the SLS project for the logs}"
role="${DDS_BACKUP_ROLE_NAME:-dds-backup}"

# The account id goes into every ARN; asking STS avoids a typo in a hand-written one.
DDS_BACKUP_ACCOUNT_ID="${DDS_BACKUP_ACCOUNT_ID:-$(aliyun sts GetCallerIdentity |
  node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).AccountId')}"
export DDS_BACKUP_ACCOUNT_ID

render() {
  npx --no-install tsx deploy/render-policy.ts "$1"
}

aliyun ram CreateRole --RoleName "$role" \
  --Description "dds-backup: on-demand ApsaraDB for MongoDB backups from Function Compute" \
  --AssumeRolePolicyDocument "$(cat deploy/trust-policy.json)"

aliyun ram CreatePolicy --PolicyName "$role-backup" \
  --Description "dds-backup: CreateBackup and the Describe calls on the allowed instances" \
  --PolicyDocument "$(render deploy/ram-policy.json)"
aliyun ram AttachPolicyToRole --PolicyType Custom --PolicyName "$role-backup" --RoleName "$role"

aliyun ram CreatePolicy --PolicyName "$role-logs" \
  --Description "dds-backup: write function logs to its logstore" \
  --PolicyDocument "$(render deploy/ram-policy-logs.json)"
aliyun ram AttachPolicyToRole --PolicyType Custom --PolicyName "$role-logs" --RoleName "$role"

echo "export DDS_BACKUP_ROLE_ARN=acs:ram::${DDS_BACKUP_ACCOUNT_ID}:role/${role}"
