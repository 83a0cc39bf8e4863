// Only the commands that draw a dashboard load the UI (Ink, React, Yoga's WebAssembly): the proxy, a long-running
// service, and every other command start without them.
//
// React (under Ink) chooses its build from NODE_ENV when it is first loaded. The development build keeps debug
// records of every render that are never freed (tens of KB per dashboard frame: hundreds of MB over a long
// rollout), so the CLI loads the UI libraries as production whatever the shell says, then puts NODE_ENV back
// as it was: hooks and anything else that reads it see the user's value.
export async function loadUiAsProduction(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const had = Object.prototype.hasOwnProperty.call(env, 'NODE_ENV');
  const before = env.NODE_ENV;
  env.NODE_ENV = 'production';
  try {
    // Ink brings react and react-reconciler with it; our components' compiled JSX calls react/jsx-runtime,
    // which must match react's build. Later imports get these same, production, instances.
    await Promise.all([import('ink'), import('react/jsx-runtime')]);
  } finally {
    if (had) env.NODE_ENV = before;
    else delete env.NODE_ENV;
  }
}

/** The rollout dashboard, loaded the first time it is needed, as production builds: other commands never load the UI. */
export async function importDashboard(env: NodeJS.ProcessEnv = process.env): Promise<typeof import('../report/ink/reporter.js')> {
  await loadUiAsProduction(env);
  return import('../report/ink/reporter.js');
}

/** `status --watch`'s dashboard in a terminal, loaded as importDashboard loads the rollout's. */
export async function importStatusWatch(env: NodeJS.ProcessEnv = process.env): Promise<typeof import('../report/ink/watch.js')> {
  await loadUiAsProduction(env);
  return import('../report/ink/watch.js');
}
