import { Migration } from '@mikro-orm/migrations';

export class Migration20261125162148 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "site_config" ("key" varchar(255) not null, "value" text not null, constraint "site_config_pkey" primary key ("key"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "site_config" cascade;`);
  }

}
