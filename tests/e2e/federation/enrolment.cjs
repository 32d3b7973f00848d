// A small enrolment subgraph for test_gateway.py: it extends the hub's entities
// (Institution by `code`, Person by `idNumber`) with values derived from the key, and records
// the Authorization header and the variables of every request it gets (one JSON line each in
// LOG_FILE), so the test sees what the gateway forwarded.
//
//   node enrolment.cjs LOG_FILE
// listens on a free port of 127.0.0.1 and prints {"url": …} as its first line on stdout.
"use strict";

const fs = require("node:fs");
const { createHash } = require("node:crypto");
const { ApolloServer } = require("@apollo/server");
const { startStandaloneServer } = require("@apollo/server/standalone");
const { buildSubgraphSchema } = require("@apollo/subgraph");
const { parse } = require("graphql");

const [log] = process.argv.slice(2);

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.0", import: ["@key"])

  type Institution @key(fields: "code") {
    code: String!
    "pupils enrolled in the institution's schools"
    enrolment: Int!
  }

  type Person @key(fields: "idNumber") {
    idNumber: String!
    "courses the person is enrolled in"
    enrolledCourses: [String!]!
  }

  type Query {
    "the given institutions, largest enrolment first"
    enrolmentRanking(codes: [String!]!): [Institution!]!
    "the given persons, as learners"
    learners(idNumbers: [String!]!): [Person!]!
  }
`);

// Deterministic values from a key: the first bytes of its SHA-256.
const digest = (key) => createHash("sha256").update(key).digest();
const COURSES = ["Mongolian", "Statistics", "Public finance", "Archives", "Law", "First aid"];

const institution = (code) => ({ code, enrolment: 100 + (digest(code).readUInt32BE(0) % 4900) });
const person = (idNumber) => {
  const bytes = digest(idNumber);
  return { idNumber, enrolledCourses: COURSES.filter((_, i) => bytes[i] % 2 === 0) };
};

const resolvers = {
  Query: {
    enrolmentRanking: (_, { codes }) => codes.map(institution).sort((a, b) => b.enrolment - a.enrolment),
    learners: (_, { idNumbers }) => idNumbers.map(person),
  },
  Institution: { __resolveReference: ({ code }) => institution(code) },
  Person: { __resolveReference: ({ idNumber }) => person(idNumber) },
};

async function main() {
  const server = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs, resolvers }),
    logger: new console.Console(process.stderr), // stdout carries only the startup line
  });
  const { url } = await startStandaloneServer(server, {
    listen: { host: "127.0.0.1", port: 0 },
    context: async ({ req }) => {
      const { query = null, variables = null } = req.body ?? {};
      const entry = { authorization: req.headers.authorization ?? null, query, variables };
      fs.appendFileSync(log, `${JSON.stringify(entry)}\n`);
      return {};
    },
  });
  process.stdout.write(`${JSON.stringify({ url })}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
