<?php
/**
 * Test harness only (test/support/wordpress.ts copies it into the site as .wharf-install.php):
 * installs WordPress without a browser or WP-CLI, as wp-admin/install.php does.
 */
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = getenv('WHARF_WP_HOST');

/** No mail from the test site (pluggable: declared before upgrade.php looks for it). */
function wp_new_blog_notification()
{
}

require __DIR__ . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$result = wp_install('Wharf test site', 'admin', 'admin@example.test', true, '', getenv('WHARF_WP_PASSWORD'));
update_option('permalink_structure', '');
echo json_encode(array('user_id' => $result['user_id']));
