// Timestamps as berth stores and reports them: ISO 8601 in UTC.
export const now = (): string => new Date().toISOString();
