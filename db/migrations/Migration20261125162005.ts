import { Migration } from '@mikro-orm/migrations';

export class Migration20261125162005 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "audit_logs" ("id" uuid not null, "time" timestamptz not null, "user_id" uuid null, "organization_id" uuid null, "resource_type" varchar(255) not null, "resource_id" uuid null, "resource_target" varchar(255) not null default '', "action" varchar(255) not null, "diff" jsonb not null, "status_code" int not null, "request_id" varchar(255) not null default '', "ip" varchar(255) not null default '', constraint "audit_logs_pkey" primary key ("id"));`);
    this.addSql(`create index "audit_logs_resource_type_resource_id_index" on "audit_logs" ("resource_type", "resource_id");`);
    this.addSql(`create index "audit_logs_time_index" on "audit_logs" ("time");`);

    this.addSql(`create table "notification_messages" ("id" uuid not null, "template_id" uuid not null, "user_id" uuid not null, "labels" jsonb not null, "dedupe_key" varchar(255) not null, "status" varchar(255) not null default 'pending', "attempts" int not null default 0, "last_error" text null, "created_at" timestamptz not null, "sent_at" timestamptz null, constraint "notification_messages_pkey" primary key ("id"));`);
    this.addSql(`alter table "notification_messages" add constraint "notification_messages_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(`create index "notification_messages_status_created_at_index" on "notification_messages" ("status", "created_at");`);

    this.addSql(`create table "organizations" ("id" uuid not null, "name" varchar(255) not null, "display_name" varchar(255) not null default '', "description" varchar(255) not null default '', "icon" varchar(255) not null default '', "is_default" boolean not null default false, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "organizations_pkey" primary key ("id"));`);
    this.addSql(`alter table "organizations" add constraint "organizations_name_unique" unique ("name");`);

    this.addSql(`create table "users" ("id" uuid not null, "email" varchar(255) not null, "username" varchar(255) not null, "name" varchar(255) not null default '', "avatar_url" varchar(255) not null default '', "password_hash" varchar(255) null, "is_site_owner" boolean not null default false, "status" varchar(255) not null default 'active', "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "users_pkey" primary key ("id"));`);
    this.addSql(`create unique index "users_email_lower_key" on "users" (lower("email"));`);
    this.addSql(`create unique index "users_username_lower_key" on "users" (lower("username"));`);

    this.addSql(`create table "templates" ("id" uuid not null, "organization_id" uuid not null, "name" varchar(255) not null, "display_name" varchar(255) not null default '', "description" varchar(255) not null default '', "icon" varchar(255) not null default '', "active_version_id" uuid null, "created_by_id" uuid not null, "deleted" boolean not null default false, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "templates_pkey" primary key ("id"));`);
    this.addSql(`create unique index "templates_org_name_key" on "templates" ("organization_id", lower("name")) where not "deleted";`);

    this.addSql(`create table "template_versions" ("id" uuid not null, "template_id" uuid not null, "organization_id" uuid not null, "name" varchar(255) not null, "message" varchar(255) not null default '', "definition" jsonb not null, "has_ai_task" boolean not null default false, "created_by_id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "template_versions_pkey" primary key ("id"));`);
    this.addSql(`create index "template_versions_template_id_index" on "template_versions" ("template_id");`);

    this.addSql(`create table "template_version_presets" ("id" uuid not null, "template_version_id" uuid not null, "name" varchar(255) not null, "parameters" jsonb not null, "created_at" timestamptz not null, constraint "template_version_presets_pkey" primary key ("id"));`);
    this.addSql(`create index "template_version_presets_template_version_id_index" on "template_version_presets" ("template_version_id");`);
    this.addSql(`alter table "template_version_presets" add constraint "template_version_presets_template_version_id_name_unique" unique ("template_version_id", "name");`);

    this.addSql(`create table "organization_members" ("organization_id" uuid not null, "user_id" uuid not null, "roles" text[] not null default '{}', "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "organization_members_pkey" primary key ("organization_id", "user_id"));`);

    this.addSql(`create table "api_keys" ("id" varchar(10) not null, "user_id" uuid not null, "hashed_secret" varchar(255) not null, "login_type" varchar(255) not null default 'password', "token_name" varchar(255) not null default '', "expires_at" timestamptz not null, "last_used" timestamptz not null, "created_at" timestamptz not null, constraint "api_keys_pkey" primary key ("id"));`);
    this.addSql(`create index "api_keys_user_id_index" on "api_keys" ("user_id");`);

    this.addSql(`create table "workspaces" ("id" uuid not null, "organization_id" uuid not null, "owner_id" uuid not null, "template_id" uuid not null, "name" varchar(255) not null, "host_id" varchar(255) null, "deleted" boolean not null default false, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "workspaces_pkey" primary key ("id"));`);
    this.addSql(`create index "workspaces_owner_id_index" on "workspaces" ("owner_id");`);
    this.addSql(`create unique index "workspaces_owner_name_key" on "workspaces" ("owner_id", lower("name")) where not "deleted";`);

    this.addSql(`create table "tasks" ("id" uuid not null, "organization_id" uuid not null, "owner_id" uuid not null, "name" varchar(255) not null, "display_name" varchar(127) not null default '', "workspace_id" uuid null, "template_version_id" uuid not null, "template_parameters" jsonb not null, "prompt" text not null, "prompt_delivered_at" timestamptz null, "idempotency_key" varchar(255) null, "created_at" timestamptz not null, "deleted_at" timestamptz null, constraint "tasks_pkey" primary key ("id"));`);
    this.addSql(`create index "tasks_owner_id_created_at_index" on "tasks" ("owner_id", "created_at");`);
    this.addSql(`create index "tasks_workspace_id_index" on "tasks" ("workspace_id");`);
    this.addSql(`create unique index "tasks_owner_name_key" on "tasks" ("owner_id", lower("name")) where "deleted_at" is null;`);
    this.addSql(`alter table "tasks" add constraint "tasks_owner_idempotency_key" unique ("owner_id", "idempotency_key");`);

    this.addSql(`create table "task_snapshots" ("task_id" uuid not null, "log_snapshot" jsonb not null, "log_snapshot_created_at" timestamptz not null, constraint "task_snapshots_pkey" primary key ("task_id"));`);

    this.addSql(`create table "task_messages" ("task_id" uuid not null, "message_id" int not null, "role" varchar(255) not null, "content" text not null, "time" timestamptz not null, constraint "task_messages_pkey" primary key ("task_id", "message_id"));`);

    this.addSql(`create table "workspace_builds" ("id" uuid not null, "workspace_id" uuid not null, "build_number" int not null, "transition" varchar(255) not null, "reason" varchar(255) not null, "template_version_id" uuid not null, "template_version_preset_id" uuid null, "initiator_id" uuid not null, "job_id" uuid not null, "job_status" varchar(255) not null, "job_error" text null, "job_started_at" timestamptz null, "job_completed_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "workspace_builds_pkey" primary key ("id"));`);
    this.addSql(`alter table "workspace_builds" add constraint "workspace_builds_workspace_id_build_number_unique" unique ("workspace_id", "build_number");`);

    this.addSql(`create table "workspace_agents" ("id" uuid not null, "build_id" uuid not null, "name" varchar(255) not null, "lifecycle_state" varchar(255) not null default 'created', "lifecycle_changed_at" timestamptz null, "start_error" text null, "auth_token_hash" varchar(255) not null, "first_connected_at" timestamptz null, "last_connected_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "workspace_agents_pkey" primary key ("id"));`);
    this.addSql(`create index "workspace_agents_build_id_index" on "workspace_agents" ("build_id");`);
    this.addSql(`alter table "workspace_agents" add constraint "workspace_agents_auth_token_hash_unique" unique ("auth_token_hash");`);

    this.addSql(`create table "workspace_apps" ("id" uuid not null, "agent_id" uuid not null, "slug" varchar(255) not null, "display_name" varchar(255) not null default '', "command" text null, "url" text not null default '', "health" varchar(255) not null default 'disabled', "healthcheck" jsonb null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "workspace_apps_pkey" primary key ("id"));`);
    this.addSql(`create index "workspace_apps_agent_id_index" on "workspace_apps" ("agent_id");`);
    this.addSql(`alter table "workspace_apps" add constraint "workspace_apps_agent_id_slug_unique" unique ("agent_id", "slug");`);

    this.addSql(`create table "workspace_app_statuses" ("id" uuid not null, "workspace_id" uuid not null, "agent_id" uuid not null, "app_id" uuid not null, "state" varchar(255) not null, "message" text not null default '', "uri" text null, "created_at" timestamptz not null, constraint "workspace_app_statuses_pkey" primary key ("id"));`);
    this.addSql(`create index "workspace_app_statuses_workspace_id_created_at_index" on "workspace_app_statuses" ("workspace_id", "created_at");`);

    this.addSql(`create table "task_workspace_apps" ("task_id" uuid not null, "workspace_build_number" int not null, "workspace_agent_id" uuid null, "workspace_app_id" uuid null, constraint "task_workspace_apps_pkey" primary key ("task_id", "workspace_build_number"));`);

    this.addSql(`alter table "templates" add constraint "templates_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "templates" add constraint "templates_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on update cascade;`);

    this.addSql(`alter table "template_versions" add constraint "template_versions_template_id_foreign" foreign key ("template_id") references "templates" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "template_versions" add constraint "template_versions_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "template_versions" add constraint "template_versions_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on update cascade;`);

    this.addSql(`alter table "template_version_presets" add constraint "template_version_presets_template_version_id_foreign" foreign key ("template_version_id") references "template_versions" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "organization_members" add constraint "organization_members_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "organization_members" add constraint "organization_members_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "api_keys" add constraint "api_keys_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "workspaces" add constraint "workspaces_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "workspaces" add constraint "workspaces_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "workspaces" add constraint "workspaces_template_id_foreign" foreign key ("template_id") references "templates" ("id") on update cascade;`);

    this.addSql(`alter table "tasks" add constraint "tasks_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "tasks" add constraint "tasks_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "tasks" add constraint "tasks_workspace_id_foreign" foreign key ("workspace_id") references "workspaces" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "tasks" add constraint "tasks_template_version_id_foreign" foreign key ("template_version_id") references "template_versions" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "task_snapshots" add constraint "task_snapshots_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "task_messages" add constraint "task_messages_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "workspace_builds" add constraint "workspace_builds_workspace_id_foreign" foreign key ("workspace_id") references "workspaces" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "workspace_builds" add constraint "workspace_builds_template_version_id_foreign" foreign key ("template_version_id") references "template_versions" ("id") on update cascade;`);
    this.addSql(`alter table "workspace_builds" add constraint "workspace_builds_template_version_preset_id_foreign" foreign key ("template_version_preset_id") references "template_version_presets" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "workspace_builds" add constraint "workspace_builds_initiator_id_foreign" foreign key ("initiator_id") references "users" ("id") on update cascade;`);

    this.addSql(`alter table "workspace_agents" add constraint "workspace_agents_build_id_foreign" foreign key ("build_id") references "workspace_builds" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "workspace_apps" add constraint "workspace_apps_agent_id_foreign" foreign key ("agent_id") references "workspace_agents" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "workspace_app_statuses" add constraint "workspace_app_statuses_workspace_id_foreign" foreign key ("workspace_id") references "workspaces" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "workspace_app_statuses" add constraint "workspace_app_statuses_agent_id_foreign" foreign key ("agent_id") references "workspace_agents" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "workspace_app_statuses" add constraint "workspace_app_statuses_app_id_foreign" foreign key ("app_id") references "workspace_apps" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "task_workspace_apps" add constraint "task_workspace_apps_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "task_workspace_apps" add constraint "task_workspace_apps_workspace_agent_id_foreign" foreign key ("workspace_agent_id") references "workspace_agents" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "task_workspace_apps" add constraint "task_workspace_apps_workspace_app_id_foreign" foreign key ("workspace_app_id") references "workspace_apps" ("id") on update cascade on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "templates" drop constraint "templates_organization_id_foreign";`);

    this.addSql(`alter table "template_versions" drop constraint "template_versions_organization_id_foreign";`);

    this.addSql(`alter table "organization_members" drop constraint "organization_members_organization_id_foreign";`);

    this.addSql(`alter table "workspaces" drop constraint "workspaces_organization_id_foreign";`);

    this.addSql(`alter table "tasks" drop constraint "tasks_organization_id_foreign";`);

    this.addSql(`alter table "templates" drop constraint "templates_created_by_id_foreign";`);

    this.addSql(`alter table "template_versions" drop constraint "template_versions_created_by_id_foreign";`);

    this.addSql(`alter table "organization_members" drop constraint "organization_members_user_id_foreign";`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_user_id_foreign";`);

    this.addSql(`alter table "workspaces" drop constraint "workspaces_owner_id_foreign";`);

    this.addSql(`alter table "tasks" drop constraint "tasks_owner_id_foreign";`);

    this.addSql(`alter table "workspace_builds" drop constraint "workspace_builds_initiator_id_foreign";`);

    this.addSql(`alter table "template_versions" drop constraint "template_versions_template_id_foreign";`);

    this.addSql(`alter table "workspaces" drop constraint "workspaces_template_id_foreign";`);

    this.addSql(`alter table "template_version_presets" drop constraint "template_version_presets_template_version_id_foreign";`);

    this.addSql(`alter table "tasks" drop constraint "tasks_template_version_id_foreign";`);

    this.addSql(`alter table "workspace_builds" drop constraint "workspace_builds_template_version_id_foreign";`);

    this.addSql(`alter table "workspace_builds" drop constraint "workspace_builds_template_version_preset_id_foreign";`);

    this.addSql(`alter table "tasks" drop constraint "tasks_workspace_id_foreign";`);

    this.addSql(`alter table "workspace_builds" drop constraint "workspace_builds_workspace_id_foreign";`);

    this.addSql(`alter table "workspace_app_statuses" drop constraint "workspace_app_statuses_workspace_id_foreign";`);

    this.addSql(`alter table "task_snapshots" drop constraint "task_snapshots_task_id_foreign";`);

    this.addSql(`alter table "task_messages" drop constraint "task_messages_task_id_foreign";`);

    this.addSql(`alter table "task_workspace_apps" drop constraint "task_workspace_apps_task_id_foreign";`);

    this.addSql(`alter table "workspace_agents" drop constraint "workspace_agents_build_id_foreign";`);

    this.addSql(`alter table "workspace_apps" drop constraint "workspace_apps_agent_id_foreign";`);

    this.addSql(`alter table "workspace_app_statuses" drop constraint "workspace_app_statuses_agent_id_foreign";`);

    this.addSql(`alter table "task_workspace_apps" drop constraint "task_workspace_apps_workspace_agent_id_foreign";`);

    this.addSql(`alter table "workspace_app_statuses" drop constraint "workspace_app_statuses_app_id_foreign";`);

    this.addSql(`alter table "task_workspace_apps" drop constraint "task_workspace_apps_workspace_app_id_foreign";`);

    this.addSql(`drop table if exists "audit_logs" cascade;`);

    this.addSql(`drop table if exists "notification_messages" cascade;`);

    this.addSql(`drop table if exists "organizations" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "templates" cascade;`);

    this.addSql(`drop table if exists "template_versions" cascade;`);

    this.addSql(`drop table if exists "template_version_presets" cascade;`);

    this.addSql(`drop table if exists "organization_members" cascade;`);

    this.addSql(`drop table if exists "api_keys" cascade;`);

    this.addSql(`drop table if exists "workspaces" cascade;`);

    this.addSql(`drop table if exists "tasks" cascade;`);

    this.addSql(`drop table if exists "task_snapshots" cascade;`);

    this.addSql(`drop table if exists "task_messages" cascade;`);

    this.addSql(`drop table if exists "workspace_builds" cascade;`);

    this.addSql(`drop table if exists "workspace_agents" cascade;`);

    this.addSql(`drop table if exists "workspace_apps" cascade;`);

    this.addSql(`drop table if exists "workspace_app_statuses" cascade;`);

    this.addSql(`drop table if exists "task_workspace_apps" cascade;`);
  }

}
