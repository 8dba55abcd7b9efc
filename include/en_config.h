/*  en_config - strict configuration: every key a daemon reads is in its
    schema (one table per daemon, in broker/broker_main.c and
    node/node_main.c), and a configuration with a key not in it, or a
    value not of its type, is refused, naming the file, the line and the
    key. The daemon will not start on it, and on SIGHUP it keeps the
    configuration it runs on (en_daemon.c).

    zconfig keeps no line numbers, so the line is found by reading the
    file again: a small scanner follows ZPL's indentation (four spaces a
    level) to know the full path of each line. A key that came from
    --set is named as such.
*/
#ifndef EN_CONFIG_H_INCLUDED
#define EN_CONFIG_H_INCLUDED

typedef enum {
    EN_CONF_STRING,             //  any text (the daemon may check it further)
    EN_CONF_NAME,               //  a name: [a-z0-9-], 1..63 (en_name_valid)
    EN_CONF_DURATION,           //  90s, 15m, 4h, 3d, 250ms (en_duration_ms)
    EN_CONF_COUNT,              //  a whole number >= 0
    EN_CONF_BOOL,               //  true or false
    EN_CONF_CHOICE,             //  one of `choices` ("a|b|c")
    EN_CONF_LIST,               //  a section whose children are names with no value
    EN_CONF_SECTION             //  a section of its own (no value)
} en_conf_type_t;

typedef struct en_conf_key_s {
    const char *path;           //  "routing/deadline/crisis"; "*" matches any one name
    en_conf_type_t type;
    const char *choices;        //  for EN_CONF_CHOICE
} en_conf_key_t;

//  Check config against schema (terminated by a {NULL} entry). file is
//  the path it was loaded from (NULL: none). Returns 0, or -1 with error
//  (EN_ERR_INVALID) saying "FILE:LINE: key 'PATH' ...".
int en_config_check (zconfig_t *config, const en_conf_key_t *schema, const char *file,
                     en_error_t *error);

//  The line (1-based) of a key in a ZPL file, or 0 if not found there.
int en_config_line (const char *file, const char *path);

#endif
