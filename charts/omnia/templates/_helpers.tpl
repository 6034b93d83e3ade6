{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "omnia.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name: <release>-omnia, or the release name when it already contains "omnia". */}}
{{- define "omnia.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "omnia.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of everything the chart creates, without a component. */}}
{{- define "omnia.baseLabels" -}}
helm.sh/chart: {{ include "omnia.chart" . }}
app.kubernetes.io/name: {{ include "omnia.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: omnia
{{- end }}

{{/* Labels of the operator's own objects. */}}
{{- define "omnia.labels" -}}
{{ include "omnia.baseLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "omnia.selectorLabels" -}}
app.kubernetes.io/name: {{ include "omnia.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "omnia.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "omnia.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Whether the operator runs leader election: forced on, or more than one replica. */}}
{{- define "omnia.leaderElection" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ else }}false{{ end }}
{{- end }}

{{- define "omnia.operatorImage" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "omnia.facadeImage" -}}
{{- printf "%s:%s" .Values.agentImages.facade.repository (default .Chart.AppVersion .Values.agentImages.facade.tag) }}
{{- end }}

{{- define "omnia.runtimeImage" -}}
{{- printf "%s:%s" .Values.agentImages.runtime.repository (default .Chart.AppVersion .Values.agentImages.runtime.tag) }}
{{- end }}

{{- define "omnia.redisName" -}}
{{- printf "%s-redis" (include "omnia.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels the operator puts on every agent pod (the NetworkPolicy and PodMonitor select on them). */}}
{{- define "omnia.agentPodSelector" -}}
app.kubernetes.io/managed-by: omnia-operator
omnia.altairalabs.ai/component: agent
{{- end }}

{{/*
The rules the operator needs, shared by the ClusterRole and the per-namespace Roles. Derived from what the
reconcilers call; charts/omnia/tests/test_rbac.py fails when the operator makes a request these do not grant.
*/}}
{{- define "omnia.operatorRules" -}}
- apiGroups: ["omnia.altairalabs.ai"]
  resources: ["agentruntimes", "promptpacks", "providers", "toolregistries"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["omnia.altairalabs.ai"]
  resources: ["agentruntimes/status", "promptpacks/status", "providers/status", "toolregistries/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["omnia.altairalabs.ai"]
  resources: ["agentruntimes/finalizers", "promptpacks/finalizers", "providers/finalizers", "toolregistries/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["configmaps", "services"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["get", "create", "update", "delete"]
- apiGroups: ["keda.sh"]
  resources: ["scaledobjects"]
  verbs: ["get", "list", "create", "update", "delete"]
{{- end }}
