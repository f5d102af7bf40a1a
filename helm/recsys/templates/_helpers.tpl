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
- name: RECSYS_RABBITMQ
  valueFrom:
    secretKeyRef:
      name: {{ .Values.rabbitmq.existingSecret | default (include "recsys.secretName" .) }}
      key: {{ .Values.rabbitmq.secretKey }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: Recsys__Cluster__SiloName
  value: $(POD_NAME)
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
