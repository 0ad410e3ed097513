/** Every API route by path: reads (GET) and changes (POST, checked for origin and token first). */
import type { Route } from '../context.js';
import { dead, deleteDead, retryDead } from './dead.js';
import { buryJob, deleteJob, download, job, kickJob } from './job.js';
import { jobs, scheduled } from './jobs.js';
import { events, overview } from './overview.js';
import { kick, pause, tube } from './tube.js';

export const apiRoutes: ReadonlyMap<string, Route> = new Map([
  ['/api/overview', overview],
  ['/api/events', events],
  ['/api/tube', tube],
  ['/api/job', job],
  ['/api/job/body', download],
  ['/api/jobs', jobs],
  ['/api/dead', dead],
  ['/api/scheduled', scheduled],
]);

export const changeRoutes: ReadonlyMap<string, Route> = new Map([
  ['/api/job/delete', deleteJob],
  ['/api/job/kick', kickJob],
  ['/api/job/bury', buryJob],
  ['/api/tube/pause', pause],
  ['/api/tube/kick', kick],
  ['/api/dead/retry', retryDead],
  ['/api/dead/delete', deleteDead],
]);
