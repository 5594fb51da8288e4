// A montecarlo function process for the shard tests: the deployed handler (jobs and shard
// tasks) under the functions-framework on 127.0.0.1, an OS-assigned port printed as
// "listening <port>"; services from the environment, as deployed. Stops with its parent's kill.
import { cloudEvent } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { cloudEventHandler } from '../../shared/job/cloudEventHandler.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';

cloudEvent('montecarlo', cloudEventHandler(montecarloModel));
const server = getTestServer('montecarlo');
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
// Dies with the test run even if the test is interrupted before it kills this process.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
