import { Migration } from '@mikro-orm/migrations';

// Inputs queued for a task's AI app (POST /tasks/{user}/{task}/send?queue=true): delivered by the
// task's workflow in `seq` order, one per stable period of the app. `delivering` is set before the
// app is called and `last_message_id` holds the app's newest message id at that moment, so a worker
// killed mid-delivery can tell from the app's conversation whether the input went in.
export class Migration20261204030000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "task_queued_inputs" (
  "id" uuid primary key,
  "task_id" uuid not null references "tasks" ("id") on delete cascade,
  "seq" bigserial not null,
  "input" text not null,
  "idempotency_key" text null,
  "created_by" uuid not null,
  "state" text not null default 'queued' check ("state" in ('queued', 'delivering', 'delivered', 'cancelled')),
  "created_at" timestamptz not null default now(),
  "delivering_at" timestamptz null,
  "last_message_id" integer null,
  "finished_at" timestamptz null,
  constraint "task_queued_inputs_key" unique ("task_id", "idempotency_key")
);`);
    this.addSql(`create index "task_queued_inputs_open" on "task_queued_inputs" ("task_id", "seq") where "state" in ('queued', 'delivering');`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "task_queued_inputs";');
  }
}
