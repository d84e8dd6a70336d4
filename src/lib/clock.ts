/** The source of the current time; tests inject a controllable one. */
export type Clock = { now: () => Date };

export const systemClock: Clock = { now: () => new Date() };
