// API keys for eval providers: kept in VS Code's SecretStorage, one per base URL,
// never in a suite file or a setting. The environment variable the suite names
// (else OPENAI_API_KEY) is the fallback, as for the CLI.

import type * as vscode from 'vscode';

/** The key's identity: scheme, host, port and path, without a trailing slash or a query. */
export function normalizeBaseUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`.toLowerCase();
}

const secretKey = (baseUrl: string): string => `mlops.apiKey:${normalizeBaseUrl(baseUrl)}`;

/** Loopback endpoints (a local server) usually take no key. */
export function isLocalEndpoint(baseUrl: string): boolean {
  const host = new URL(baseUrl).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

export class ApiKeys {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** The key for a base URL: SecretStorage, else the environment variable; with where it came from. */
  async get(
    baseUrl: string,
    envVar = 'OPENAI_API_KEY',
  ): Promise<{ key: string; from: 'secret' | 'env' } | undefined> {
    const stored = await this.secrets.get(secretKey(baseUrl));
    if (stored) return { key: stored, from: 'secret' };
    const env = process.env[envVar];
    if (env) return { key: env, from: 'env' };
    return undefined;
  }

  async set(baseUrl: string, key: string): Promise<void> {
    await this.secrets.store(secretKey(baseUrl), key);
  }

  async delete(baseUrl: string): Promise<void> {
    await this.secrets.delete(secretKey(baseUrl));
  }
}
