/** The overview's data: the servers and the tubes with their rates, now and then once a second. */
import type { Route } from '../context.js';
import { sendJson } from '../http.js';

export const overview: Route = async ({ res, live, servers, options }) => {
  const view = await live.view();
  sendJson(res, 200, { ...view, urls: servers.urls, readOnly: options.readOnly });
};

export const events: Route = async ({ res, live }) => {
  live.subscribe(res);
};
