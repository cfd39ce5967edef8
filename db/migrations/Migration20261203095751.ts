import { Migration } from '@mikro-orm/migrations';

// login_failures gets an entity (LoginFailure), and an entity needs a primary key: without one the
// schema diff proposed dropping the table. A sequence, since failures of one key need not differ in
// time; nothing reads the id.
export class Migration20261203095751 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "login_failures" add column "id" bigserial primary key;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "login_failures" drop constraint "login_failures_pkey";`);
    this.addSql(`alter table "login_failures" drop column "id";`);
  }
}
