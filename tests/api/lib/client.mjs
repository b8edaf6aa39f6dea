// Factories for the official chromadb 3.0.9 JS clients, pointed at CHROMA_URL.
import { ChromaClient, AdminClient } from 'chromadb';
import { CHROMA_URL } from './env.mjs';

function hostPort(base) {
  const url = new URL(base || CHROMA_URL);
  return { host: url.hostname, port: Number(url.port || 80) };
}

// A ChromaClient for the default tenant and database (or the given ones).
export function makeClient({ base, tenant, database } = {}) {
  const { host, port } = hostPort(base);
  const args = { host, port, ssl: false };
  if (tenant) args.tenant = tenant;
  if (database) args.database = database;
  return new ChromaClient(args);
}

// An AdminClient (tenants and databases).
export function makeAdmin({ base } = {}) {
  const { host, port } = hostPort(base);
  return new AdminClient({ host, port, ssl: false });
}

// An embedding function that must never be called: tests pass embeddings
// explicitly. Having no getConfig makes the client send
// `embedding_function: {"type":"legacy"}` instead of importing
// @chroma-core/default-embed (which is not installed).
export const noEmbed = {
  generate: async () => {
    throw new Error('noEmbed: tests must pass embeddings explicitly');
  },
};
