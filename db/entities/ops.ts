import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const AuditLog = defineEntity({
  name: 'AuditLog',
  tableName: 'audit_logs',
  properties: {
    id: p.uuid().primary(),
    time: p.datetime(),
    userId: p.uuid().nullable(),
    organizationId: p.uuid().nullable(),
    resourceType: p.string(),
    resourceId: p.uuid().nullable(),
    resourceTarget: p.string().default(''),
    action: p.string(), // create | write | delete | login
    diff: p.json<Record<string, unknown>>(),
    statusCode: p.integer(),
    requestId: p.string().default(''),
    ip: p.string().default(''),
  },
  indexes: [{ properties: ['resourceType', 'resourceId'] }, { properties: ['time'] }],
});
export type IAuditLog = InferEntity<typeof AuditLog>;

export const NotificationMessage = defineEntity({
  name: 'NotificationMessage',
  tableName: 'notification_messages',
  properties: {
    id: p.uuid().primary(),
    templateId: p.uuid(),
    userId: p.uuid(),
    labels: p.json<Record<string, string>>(),
    // business key of the event (e.g. "paused:<build id>"): a retried activity cannot enqueue twice
    dedupeKey: p.string().unique(),
    status: p.string().default('pending'), // pending | sent | failed
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
    createdAt: p.datetime(),
    sentAt: p.datetime().nullable(),
    // when the delivery loop may try again (backoff after a failed webhook call)
    nextAttemptAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [{ properties: ['status', 'createdAt'] }, { properties: ['status', 'nextAttemptAt'] }],
});
export type INotificationMessage = InferEntity<typeof NotificationMessage>;

// Server-wide settings generated once per deployment (e.g. the key agent tokens are derived from).
export const SiteConfig = defineEntity({
  name: 'SiteConfig',
  tableName: 'site_config',
  properties: {
    key: p.string().primary(),
    value: p.text(),
  },
});
export type ISiteConfig = InferEntity<typeof SiteConfig>;
