// An Apollo Federation gateway in front of the hub (and any other subgraphs), as an integrator runs one.
//
//   SDL_AUTHORIZATION="Bearer <admin token>" node gateway.cjs hub=http://127.0.0.1:8000/graphql enrolment=http://…
//
// 1. Fetches each subgraph's `_service { sdl }`, sending SDL_AUTHORIZATION as the Authorization
//    header: the hub answers the SDL of what that credential's role may read, so it must be one
//    that reads everything the supergraph should expose (an admin's).
// 2. Composes the supergraph with @apollo/composition; on a composition error it prints every
//    error on stderr and exits 1.
// 3. Serves it with @apollo/gateway from the static supergraph on a free port of 127.0.0.1 and
//    prints {"url": …, "hints": […]} as its first line on stdout (the composition hints).
//
// Every subgraph request carries the caller's own Authorization (or X-API-Key) header: the hub
// decides what the caller may read, never the gateway. A subgraph's HTTP error whose body is a
// GraphQL error (the hub's 401 UNAUTHENTICATED, say) reaches the caller as that error.
"use strict";

const { composeServices } = require("@apollo/composition");
const { ApolloGateway, RemoteGraphQLDataSource } = require("@apollo/gateway");
const { ApolloServer } = require("@apollo/server");
const { startStandaloneServer } = require("@apollo/server/standalone");
const { GraphQLError, parse } = require("graphql");

const FORWARDED = ["authorization", "x-api-key"];

async function fetchSdl(name, url) {
  const headers = { "content-type": "application/json" };
  if (process.env.SDL_AUTHORIZATION) headers.authorization = process.env.SDL_AUTHORIZATION;
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query: "{ _service { sdl } }" }) });
  const body = await response.json();
  if (!response.ok || body.errors || !body.data?._service?.sdl) {
    throw new Error(`${name} (${url}) gave no SDL: HTTP ${response.status} ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data._service.sdl;
}

class PassThroughDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    for (const header of FORWARDED) {
      if (context.headers?.[header]) request.http.headers.set(header, context.headers[header]);
    }
  }

  async errorFromResponse(response) {
    const error = await super.errorFromResponse(response);
    const first = error.extensions.response.body?.errors?.[0];
    if (typeof first?.message !== "string") return error;
    return new GraphQLError(first.message, { extensions: { ...error.extensions, ...first.extensions } });
  }
}

async function main() {
  const subgraphs = process.argv.slice(2).map((argument) => {
    const [name, url] = argument.split(/=(.*)/s);
    return { name, url };
  });
  for (const subgraph of subgraphs) subgraph.typeDefs = parse(await fetchSdl(subgraph.name, subgraph.url));
  const composed = composeServices(subgraphs);
  if (composed.errors) {
    for (const error of composed.errors) console.error(`composition error: ${error.extensions?.code}: ${error.message}`);
    process.exit(1);
  }
  const gateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl,
    buildService: ({ url }) => new PassThroughDataSource({ url }),
  });
  const server = new ApolloServer({
    gateway,
    includeStacktraceInErrorResponses: false,
    logger: new console.Console(process.stderr), // stdout carries only the startup line
  });
  const { url } = await startStandaloneServer(server, {
    listen: { host: "127.0.0.1", port: 0 },
    context: async ({ req }) => ({ headers: Object.fromEntries(FORWARDED.map((h) => [h, req.headers[h]])) }),
  });
  const hints = composed.hints.map((hint) => ({ code: hint.definition.code, message: hint.message }));
  process.stdout.write(`${JSON.stringify({ url, hints })}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
