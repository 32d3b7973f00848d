// PostGraphile 5 over the four departments' raw legacy tables, for bench/compare.py.
// Environment: BENCH_PG_URL, BENCH_PG_PORT, BENCH_PG_JWT_SECRET.
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgLazyJWTPreset } from "postgraphile/presets/lazy-jwt";
import { jsonPgSmartTags } from "postgraphile/utils";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

const fk = (columns, table, target = columns) => `(${columns}) references "${table}" (${target})`;

// The legacy tables have no foreign keys: name the relations the queries follow.
const tags = jsonPgSmartTags({
  version: 1,
  config: {
    class: {
      T_BZ: { tags: { foreignKey: fk('"JGID"', "T_JG") } },
      T_LDZS: { tags: { foreignKey: fk('"JGID"', "T_JG") } },
      T_SMZ: { tags: { foreignKey: fk('"JGID"', "T_JG") } },
      T_YBJH: { tags: { foreignKey: fk('"JGID"', "T_JG") } },
      A01: { tags: { foreignKey: fk('"A0157"', "B01", '"B0111"') } },
      A02: { tags: { foreignKey: fk('"A0100"', "A01") } },
      A08: { tags: { foreignKey: fk('"A0100"', "A01") } },
      RS_RYXX: { tags: { foreignKey: fk('"DWBM"', "RS_DW") } },
      RS_GWPY: { tags: { foreignKey: fk('"RYBH"', "RS_RYXX") } },
      RS_ZC: { tags: { foreignKey: fk('"RYBH"', "RS_RYXX") } },
      GZ_RY: { tags: { foreignKey: fk('"DWDM"', "GZ_DW") } },
      GZ_YB: { tags: { foreignKey: [fk('"RYBM"', "GZ_RY"), fk('"DWDM"', "GZ_DW")] } },
      GZ_YD: { tags: { foreignKey: fk('"RYBM"', "GZ_RY") } },
    },
  },
});

const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset, PgLazyJWTPreset],
  plugins: [tags],
  // The hub filters on unindexed legacy columns (status, end dates) too: allow the same here.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [makePgService({ connectionString: process.env.BENCH_PG_URL, schemas: ["public"] })],
  schema: { connectionFilterAllowNullInput: false },
  grafserv: {
    port: Number(process.env.BENCH_PG_PORT),
    host: "127.0.0.1",
    graphiql: false,
    pgJwtSecret: process.env.BENCH_PG_JWT_SECRET,
  },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.once("listening", () => console.log(`postgraphile listening on ${preset.grafserv.port}`));
await serv.addTo(server);
server.listen(preset.grafserv.port, preset.grafserv.host);
const stop = () => {
  server.close();
  pgl.release().finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
