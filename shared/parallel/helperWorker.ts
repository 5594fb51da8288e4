import { parentPort } from 'node:worker_threads';
import { runHelperTask, type HelperReply, type HelperRequest } from './helperTasks.js';

// The helper thread (helperThread.ts): one task a message, answered with the same id.
parentPort?.on('message', ({ id, task }: HelperRequest) => {
  let reply: HelperReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const done = runHelperTask(task);
    reply = { id, output: done.output };
    transfer = done.transfer;
  } catch (error) {
    reply = { id, error: (error as Error).message };
  }
  parentPort?.postMessage(reply, transfer);
});
