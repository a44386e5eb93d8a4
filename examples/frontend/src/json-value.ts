/** A value of the `JSON` scalar (an audit event's `data`): what JSON.parse can return, so a client narrows it instead of trusting `any`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
