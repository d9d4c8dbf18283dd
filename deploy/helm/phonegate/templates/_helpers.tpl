{{/* The chart's name. */}}
{{- define "phonegate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's objects' name. */}}
{{- define "phonegate.fullname" -}}
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

{{/* Labels on every object. */}}
{{- define "phonegate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "phonegate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the pods. */}}
{{- define "phonegate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "phonegate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "phonegate.policyConfigMap" -}}
{{- default (printf "%s-policy" (include "phonegate.fullname" .)) .Values.policy.existingConfigMap }}
{{- end }}

{{- define "phonegate.hashKeySecret" -}}
{{- default (printf "%s-hash-key" (include "phonegate.fullname" .)) .Values.hashKey.existingSecret }}
{{- end }}

{{- define "phonegate.redisSecret" -}}
{{- default (printf "%s-redis" (include "phonegate.fullname" .)) .Values.redis.existingSecret }}
{{- end }}
