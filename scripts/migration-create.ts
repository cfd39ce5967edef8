// Generates a migration from the difference between the entities and the database at DATABASE_URL.
// Usage: DATABASE_URL=postgres://... npm run migration:create [-- --initial]
import { openOrm } from '../db/orm';

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL must point at a database with every earlier migration applied');
  const orm = await openOrm({ url });
  try {
    const migrator = orm.getMigrator();
    await migrator.up();
    const result = await migrator.createMigration(undefined, false, process.argv.includes('--initial'));
    console.log(result.fileName ? `created ${result.fileName}` : 'no changes');
  } finally {
    await orm.close();
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
