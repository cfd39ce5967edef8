import { Migration } from '@mikro-orm/migrations';

// An AI app that restarts without its state (an external AgentAPI without --state-file) numbers its
// messages from 0 again; stored under their own ids they overwrote the earlier conversation. Each
// task now records where the app's current conversation starts among its stored messages
// (api/agent/task-uploads.ts, storeMessages).
export class Migration20261125210000 extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "tasks" add column "conversation_base" int not null default 0;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table "tasks" drop column "conversation_base";');
  }
}
