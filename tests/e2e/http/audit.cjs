// Runs graphql-http's GraphQL-over-HTTP server audits against a URL and prints their results as JSON.
// Usage: node audit.cjs <url> <bearer token> (after `npm ci` in this folder)
// The hub authenticates every /graphql request, so each audit's request carries the token.
"use strict";

const [url, token] = process.argv.slice(2);
const { serverAudits } = require("graphql-http");

const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${token}` } });

(async () => {
  const results = [];
  for (const { id, name, fn } of serverAudits({ url, fetchFn })) {
    const result = await fn();
    results.push({ id, name, status: result.status, reason: result.reason || null });
  }
  process.stdout.write(JSON.stringify(results));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
