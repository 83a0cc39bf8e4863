// Azure OpenAI: the OpenAI dialect with an api-key header, reached either through a deployment's path
// ({resource}/openai/deployments/{deployment}/chat/completions?api-version=...) or the newer v1 path
// ({resource}/openai/v1/chat/completions, the deployment named as the model).
import type { UpstreamConfig } from '../plan/plan.js';
import type { Dialect } from './dialect.js';
import { openAiDialect } from './openai.js';

export const azureDialect: Dialect = {
  ...openAiDialect,
  api: 'azure',
  headers: (apiKey): Record<string, string> => (apiKey === undefined ? {} : { 'api-key': apiKey }),
};

const AZURE_HOST = /\.(openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$/i;

/** An Azure OpenAI resource's host, so a plan that leaves `api` out still gets the Azure dialect. */
export function isAzureHost(baseUrl: string): boolean {
  try {
    return AZURE_HOST.test(new URL(baseUrl).hostname);
  } catch {
    return false;
  }
}

/** A base_url on the v1 path (…/openai/v1): no deployment in the path, no api-version needed. */
export function isAzureV1(baseUrl: string): boolean {
  return /\/openai\/v1\/?$/.test(new URL(baseUrl).pathname);
}

export interface Routes {
  chat: URL;
  models: URL;
  /** The `model` field of the body: the deployment on Azure's v1 path, else the arm's model. */
  bodyModel: string;
}

function joined(baseUrl: string, suffix: string, query = ''): URL {
  const url = new URL(baseUrl);
  url.pathname = url.pathname.replace(/\/+$/, '') + suffix;
  if (query) url.search = query;
  return url;
}

export function azureRoutes(upstream: UpstreamConfig & { baseUrl: string }, model: string): Routes {
  const deployment = upstream.deployment ?? model;
  const version = upstream.apiVersion ? `?api-version=${encodeURIComponent(upstream.apiVersion)}` : '';
  if (isAzureV1(upstream.baseUrl)) {
    return { chat: joined(upstream.baseUrl, '/chat/completions', version), models: joined(upstream.baseUrl, '/models', version), bodyModel: deployment };
  }
  // The resource root, with or without /openai at its end.
  const root = upstream.baseUrl.replace(/\/+$/, '').replace(/\/openai$/, '');
  return {
    chat: joined(root, `/openai/deployments/${encodeURIComponent(deployment)}/chat/completions`, version),
    models: joined(root, '/openai/models', version),
    bodyModel: model,
  };
}
