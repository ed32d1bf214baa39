/** Tool version, recorded in domain-file metadata. Keep in step with package.json. */
export const VERSION = '0.1.0';
