import { Migration } from '@mikro-orm/migrations';

// Notification outbox delivery schedule: a failed webhook attempt is retried after a growing delay,
// so each row carries when it is next due; the delivery loop scans by (status, next_attempt_at).
export class Migration20261125163003 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "notification_messages" add column "next_attempt_at" timestamptz not null default now();`);
    this.addSql(`create index "notification_messages_status_next_attempt_at_index" on "notification_messages" ("status", "next_attempt_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "notification_messages_status_next_attempt_at_index";`);
    this.addSql(`alter table "notification_messages" drop column if exists "next_attempt_at";`);
  }
}
