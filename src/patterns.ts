// Name patterns shared by the config schema and the API: one definition of what a name may be.

/** RFC 1123 label: 1–63 of a-z, 0-9 and "-", not starting or ending with "-". */
export const DNS_LABEL = "^(?!-)[a-z0-9-]{1,63}(?<!-)$";
