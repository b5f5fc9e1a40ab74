/** Defaults shared by the stack, `npm start` and `npm run local`. */
export const DEFAULT_PORT_BASE = 4010;
/** Port offsets from --port-base. */
export const PORT_OFFSETS = { web: 0, gateway: 1, dynamodb: 2, ses: 3 } as const;
/**
 * The product's event bus, where the rules of EVENT_RULES live (lib/constructs/outreach-data.ts names it 'outreach'
 * by default; producers publish with EventBusName set to it).
 */
export const LOCAL_EVENT_BUS_NAME = 'outreach';
