// Talking to the dashboard's server: reads are GETs, changes are POSTs carrying the page's token in
// a header (which another site's form or script cannot set).

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
const token = meta('beanline-token');
export const readOnly = meta('beanline-read-only') === 'true';

async function reply(response) {
  const type = response.headers.get('content-type') ?? '';
  const data = type.startsWith('application/json') ? await response.json() : { error: await response.text() };
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

/** GET api/<path>?<params> as JSON. */
export async function get(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, value]) => value !== undefined && value !== '')).toString();
  return reply(await fetch(`api/${path}${query === '' ? '' : `?${query}`}`, { headers: { Accept: 'application/json' } }));
}

/** POST api/<path> with a JSON body. */
export async function post(path, body) {
  return reply(
    await fetch(`api/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Beanline-Token': token, Accept: 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}
