import { packageTests } from '@sparseland/build-config/vitest';

export default packageTests();
