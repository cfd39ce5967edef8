import { Migration } from '@mikro-orm/migrations';

// workspace_build_logs: what each build did, line by line (Coder's provisioner job logs), read in id
// order per build, removed with the build.
export class Migration20261203180000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "workspace_build_logs" ("id" bigserial primary key, "build_id" uuid not null, ` +
        `"created_at" timestamptz not null default now(), "level" varchar(255) not null, "stage" varchar(255) not null, ` +
        `"output" text not null);`,
    );
    this.addSql(`create index "workspace_build_logs_build_id_id_index" on "workspace_build_logs" ("build_id", "id");`);
    this.addSql(
      `alter table "workspace_build_logs" add constraint "workspace_build_logs_build_id_foreign" foreign key ("build_id") ` +
        `references "workspace_builds" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "workspace_build_logs" cascade;`);
  }
}
