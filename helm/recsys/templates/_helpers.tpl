{{- define "recsys.name" -}}{{ .Release.Name }}{{- end -}}

{{- define "recsys.labels" -}}
app.kubernetes.io/name: recsys
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "recsys.secretName" -}}{{ include "recsys.name" . }}-connections{{- end -}}

{{/* Environment every silo shares: connections from Secrets, settings from the ConfigMap. */}}
{{- define "recsys.env" -}}
- name: RECSYS_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.apiKey.existingSecret | default (include "recsys.secretName" .) }}
      key: {{ .Values.apiKey.secretKey }}
- name: RECSYS_POSTGRES
  valueFrom:
    secretKeyRef:
      name: {{ .Values.postgres.existingSecret | default (include "recsys.secretName" .) }}
      key: {{ .Values.postgres.secretKey }}
{{- if eq .Values.cluster.streams "rabbitmq" }}
- name: RECSYS_RABBITMQ
  valueFrom:
    secretKeyRef:
      name: {{ .Values.rabbitmq.existingSecret | default (include "recsys.secretName" .) }}
      key: {{ .Values.rabbitmq.secretKey }}
{{- end }}
{{- if include "recsys.usesAzure" . }}
- name: RECSYS_AZURE_STORAGE
  valueFrom:
    secretKeyRef:
      name: {{ .Values.azureStorage.existingSecret | default (include "recsys.secretName" .) }}
      key: {{ .Values.azureStorage.secretKey }}
{{- end }}
# Orleans' Kubernetes hosting names the silo after the pod and advertises the pod's address.
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: ORLEANS_CLUSTER_ID
  value: {{ .Values.cluster.id | quote }}
- name: ORLEANS_SERVICE_ID
  value: {{ .Values.cluster.id | quote }}
- name: Recsys__Cluster__SiloName
  value: $(POD_NAME)
{{- if not .Values.rbac.create }}
- name: Recsys__Cluster__AdvertisedAddress
  value: $(POD_IP)
{{- end }}
{{- end -}}

{{/* The service account Orleans' Kubernetes hosting reads pods with (rbac.create). */}}
{{- define "recsys.serviceAccount" -}}
{{- if .Values.rbac.create -}}
serviceAccountName: {{ include "recsys.name" . }}
{{- end -}}
{{- end -}}

{{/* Non-empty when state or stream is on Azure Storage. */}}
{{- define "recsys.usesAzure" -}}
{{- if or (ne .Values.cluster.storage "postgres") (ne .Values.cluster.streams "rabbitmq") }}true{{ end -}}
{{- end -}}

{{/* The labels Orleans' Kubernetes hosting finds the pods of its cluster by. */}}
{{- define "recsys.orleansLabels" -}}
orleans/clusterId: {{ .Values.cluster.id | quote }}
orleans/serviceId: {{ .Values.cluster.id | quote }}
{{- end -}}

{{/* Ports every silo opens: HTTP, and the silo-to-silo port. */}}
{{- define "recsys.ports" -}}
- name: http
  containerPort: {{ .port }}
- name: orleans-silo
  containerPort: {{ .ctx.Values.cluster.siloPort }}
{{- end -}}

{{- define "recsys.probes" -}}
readinessProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 5
  failureThreshold: 2
livenessProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 10
  failureThreshold: 3
startupProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 2
  failureThreshold: 60
{{- end -}}

{{- define "recsys.securityContext" -}}
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
{{- end -}}
