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
