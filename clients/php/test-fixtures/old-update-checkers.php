<?php
/**
 * Test fixture only: global classes named like the update checkers that plugins have bundled over
 * the years (plugin-update-checker 1-4, home-grown ones). A site may load any of them next to the
 * Wharf client, which must neither clash with nor depend on them.
 */

if (!class_exists('PluginUpdateChecker', false)) {
    class PluginUpdateChecker
    {
        public $metadataUrl;
        public function __construct($metadataUrl = '', $pluginFile = '', $slug = '')
        {
            $this->metadataUrl = $metadataUrl;
        }
    }
}

if (!class_exists('PluginUpdateChecker_3_2', false)) {
    class PluginUpdateChecker_3_2 extends PluginUpdateChecker
    {
    }
}

if (!class_exists('Puc_v4_Factory', false)) {
    class Puc_v4_Factory
    {
        public static function buildUpdateChecker($metadataUrl, $fullPath, $slug = '')
        {
            return new PluginUpdateChecker($metadataUrl, $fullPath, $slug);
        }
    }
}

if (!class_exists('WP_Update_Checker', false)) {
    class WP_Update_Checker
    {
    }
}

if (!class_exists('ThemeUpdateChecker', false)) {
    class ThemeUpdateChecker
    {
        public $theme;
        public function __construct($theme = '', $metadataUrl = '')
        {
            $this->theme = $theme;
        }
    }
}

if (!class_exists('Wharf_Update_Checker', false)) {
    class Wharf_Update_Checker
    {
    }
}

if (!function_exists('wharf_old_update_checkers_loaded')) {
    /** Lets the test see that this file really ran. */
    function wharf_old_update_checkers_loaded()
    {
        return true;
    }
}
