<?php
/*
 * Test harness only (test/support/wordpress.ts installs it as an mu-plugin). Never ship this.
 * Loopback test servers on any port stand in for public update and S3 hosts on 443.
 */
add_filter('http_request_host_is_external', function ($external, $host) {
    return $external || in_array($host, array('127.0.0.1', 'localhost'), true);
}, 10, 2);
add_filter('http_allowed_safe_ports', function ($ports, $host = '', $url = '') {
    $port = (int) parse_url((string) $url, PHP_URL_PORT);
    if ($port > 0 && in_array($host, array('127.0.0.1', 'localhost'), true)) {
        $ports[] = $port;
    }
    return $ports;
}, 10, 3);

/* No internet in tests: wordpress.org's update APIs answer "nothing to update" instead of failing with warnings. */
add_filter('pre_http_request', function ($pre, $args, $url) {
    $host = (string) parse_url((string) $url, PHP_URL_HOST);
    if ($host !== 'wordpress.org' && substr($host, -14) !== '.wordpress.org') {
        return $pre;
    }
    $path = (string) parse_url((string) $url, PHP_URL_PATH);
    $body = array();
    if (strpos($path, '/plugins/update-check/') === 0) {
        $body = array('plugins' => array(), 'translations' => array(), 'no_update' => array());
    } elseif (strpos($path, '/themes/update-check/') === 0) {
        $body = array('themes' => array(), 'translations' => array(), 'no_update' => array());
    } elseif (strpos($path, '/core/version-check/') === 0) {
        $body = array('offers' => array(), 'translations' => array());
    }
    return array('headers' => array(), 'body' => json_encode($body), 'response' => array('code' => 200, 'message' => 'OK'), 'cookies' => array(), 'filename' => null);
}, 10, 3);
