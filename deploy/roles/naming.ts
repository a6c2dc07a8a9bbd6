/** The logical id of a function's own IAM role, which serverless.yml's `role:` names. */
export const roleLogicalId = (functionKey: string): string =>
  `${functionKey[0]!.toUpperCase()}${functionKey.slice(1)}Role`;
