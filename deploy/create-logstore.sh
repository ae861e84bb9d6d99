#!/usr/bin/env bash
# Creates the SLS project and logstore both functions log to, with the JSON index that lets
# queries and alerts use the fields of our log lines (fc3 has no index setting in s.yaml).
# Run it once, from the repository root; an existing project or logstore makes the matching
# step fail, and the later steps can then be run by hand.
set -euo pipefail

: "${DDS_BACKUP_REGION:?set DDS_BACKUP_REGION, e.g. cn-hangzhou}"
: "${DDS_BACKUP_LOG_PROJECT:?set DDS_BACKUP_LOG_PROJECT, a project name unique in the region}"
logstore="${DDS_BACKUP_LOGSTORE:-dds-backup}"
days="${DDS_BACKUP_LOG_DAYS:-90}"

json_part() {
  node -e 'console.log(JSON.stringify(require("./deploy/sls-index.json")[process.argv[1]]))' "$1"
}

aliyun sls create-project --region "$DDS_BACKUP_REGION" --project-name "$DDS_BACKUP_LOG_PROJECT" \
  --description "dds-backup function logs"

aliyun sls create-log-store --region "$DDS_BACKUP_REGION" --project "$DDS_BACKUP_LOG_PROJECT" \
  --logstore-name "$logstore" --ttl "$days" --shard-count 2

aliyun sls create-index --region "$DDS_BACKUP_REGION" --project "$DDS_BACKUP_LOG_PROJECT" \
  --logstore "$logstore" --line "$(json_part line)" --keys "$(json_part keys)"
