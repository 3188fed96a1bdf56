<?php
/**
 * Wharf update client for WordPress themes, version 1.0.0.
 *
 * Lets a premium theme update like one from wordpress.org, from a Wharf update server, with the
 * customer's purchase code (Appearance → "<Theme> license").
 *
 * Usage: put this file in your theme and add these two lines to its functions.php:
 *
 *     require_once __DIR__ . '/theme_update_check.php';
 *     \Wharf\UpdateClient\V1_0_0\ThemeUpdateChecker::boot(__FILE__);
 *
 * boot() uses the server URL and product ID that the Wharf dashboard filled in at the end of this
 * file. To pass them yourself instead:
 *
 *     new \Wharf\UpdateClient\V1_0_0\ThemeUpdateChecker(__FILE__, 'https://updates.example.com', '<product-id>');
 *
 * Safe next to other copies and versions of itself and other update checkers: everything lives in
 * a namespace named after this version, every class is declared once (class_exists guards), nothing
 * is global, and each checker only touches its own product. Needs WordPress 5.8+ and PHP 7.4+.
 *
 * @version 1.0.0
 */

namespace Wharf\UpdateClient\V1_0_0;

if (!defined('ABSPATH')) {
    return; // Requested directly over HTTP: do nothing.
}

// ---- wharf-shared:begin (identical in plugin_update_check.php and theme_update_check.php) ----

if (!class_exists(__NAMESPACE__ . '\\Defaults', false)) {
    /** Server URL and product ID filled into each bundled copy of this file, keyed by where that copy lives. */
    final class Defaults
    {
        /** @var array<string, array<string, array<string, string>>> directory => kind => values */
        private static $byDir = array();

        public static function register(string $clientFile, string $kind, array $values): void
        {
            self::$byDir[self::path(dirname($clientFile))][$kind] = array(
                'server_url' => isset($values['server_url']) ? (string) $values['server_url'] : '',
                'product_id' => isset($values['product_id']) ? (string) $values['product_id'] : '',
            );
        }

        /** The copy next to $mainFile, else the only copy inside $productRoot (null: exact match only). */
        public static function find(string $kind, string $mainFile, ?string $productRoot): ?array
        {
            $dir = self::path(dirname($mainFile));
            if (isset(self::$byDir[$dir][$kind])) {
                return self::$byDir[$dir][$kind];
            }
            if ($productRoot === null) {
                return null;
            }
            $root = self::path($productRoot) . '/';
            $found = array();
            foreach (self::$byDir as $candidate => $kinds) {
                if (isset($kinds[$kind]) && strpos($candidate . '/', $root) === 0) {
                    $found[] = $kinds[$kind];
                }
            }
            return count($found) === 1 ? $found[0] : null;
        }

        public static function path(string $path): string
        {
            $real = realpath($path);
            return rtrim(str_replace('\\', '/', $real !== false ? $real : $path), '/');
        }
    }
}

if (!class_exists(__NAMESPACE__ . '\\Client', false)) {
    /** What plugin and theme checkers share: the Wharf API, the cached answer, the license screen, the notices. */
    abstract class Client
    {
        const VERSION = '1.0.0';
        const TIMEOUT = 5;
        const MAX_AGE = 43200; // 12 h between background checks, like WordPress core.

        /** @var array<string, Client> one checker per product, whichever copy of this file created it */
        private static $instances = array();

        /** @var string */
        protected $file;
        /** @var string */
        protected $serverUrl = '';
        /** @var string */
        protected $productId = '';
        /** @var string */
        protected $slug = '';
        /** @var bool false when misconfigured or a duplicate: then the checker does nothing */
        protected $enabled = false;
        /** @var string */
        private $pageHook = '';
        /** @var string|null installed version, read once per request */
        protected $installed = null;

        /** 'plugin' or 'theme'. */
        abstract public function kind(): string;

        /** The version installed on this site ('' when unknown). */
        abstract public function installedVersion(): string;

        /** The product's display name. */
        abstract public function productName(): string;

        /** Keys of the update answer kept as strings. */
        abstract protected function stringFields(): array;

        /** Keys of the update answer kept as maps of strings. */
        abstract protected function mapFields(): array;

        /** Hooks only one kind needs. */
        abstract protected function addKindHooks(): void;

        /** Whether an upgrader's hook_extra describes this product. */
        abstract protected function isOwnUpgrade(array $hookExtra): bool;

        /** Capability needed to update this kind of product. */
        abstract protected function updateCapability(): string;

        /** Screen IDs that show the license notice. */
        abstract protected function noticeScreens(): array;

        /** Adds the license page to the single-site admin menu; returns its hook suffix. */
        abstract protected function addSingleSiteMenu(string $title, string $slug, callable $render): string;

        /** Screen file (pagenow) where the single-site license page lives. */
        abstract protected function singleSiteParent(): string;

        protected function setUp(string $file, string $serverUrl, string $productId, string $slug): void
        {
            $this->file = $file;
            $this->slug = $slug;
            $serverUrl = rtrim(trim($serverUrl), '/');
            $productId = strtolower(trim($productId));
            if (!preg_match('#^https?://[^/\s?\#]+(/[^\s?\#]*)?$#i', $serverUrl)) {
                self::misconfigured(sprintf('Wharf update client: invalid server URL "%s" for %s.', $serverUrl, $file));
                return;
            }
            if (!preg_match('/^[a-z0-9][a-z0-9_-]{0,63}$/', $productId)) {
                self::misconfigured(sprintf('Wharf update client: invalid product ID "%s" for %s.', $productId, $file));
                return;
            }
            $this->serverUrl = $serverUrl;
            $this->productId = $productId;
            $key = $this->kind() . ':' . $productId;
            if (isset(self::$instances[$key])) {
                return; // Started twice for one product: the first checker already does the work.
            }
            self::$instances[$key] = $this;
            $this->enabled = true;
            $this->addHooks();
        }

        /** Reports a vendor's mistake the WordPress way (visible with WP_DEBUG only). */
        protected static function misconfigured(string $message): void
        {
            if (function_exists('_doing_it_wrong')) {
                _doing_it_wrong(__CLASS__, esc_html($message), self::VERSION);
            }
        }

        /** The checker started for a product, if any. */
        public static function instance(string $kind, string $productId): ?Client
        {
            $key = $kind . ':' . strtolower($productId);
            return isset(self::$instances[$key]) ? self::$instances[$key] : null;
        }

        public function isEnabled(): bool
        {
            return $this->enabled;
        }

        public function productId(): string
        {
            return $this->productId;
        }

        public function slug(): string
        {
            return $this->slug;
        }

        private function addHooks(): void
        {
            $this->addKindHooks();
            add_filter('upgrader_pre_download', array($this, 'downloadPackage'), 10, 4);
            add_filter('upgrader_source_selection', array($this, 'fixSourceFolder'), 10, 4);
            add_action('upgrader_process_complete', array($this, 'forgetInstalledVersion'), 10, 0);
            add_action($this->kind() === 'plugin' ? 'wp_update_plugins' : 'wp_update_themes', array($this, 'cronCheck'));
            if (!is_admin()) {
                return;
            }
            add_action('admin_init', array($this, 'onAdminInit'));
            add_action(is_multisite() ? 'network_admin_menu' : 'admin_menu', array($this, 'addMenu'));
            add_action('admin_notices', array($this, 'renderNotices'));
            add_action('network_admin_notices', array($this, 'renderNotices'));
        }

        // ---- Storage: site-wide, like WordPress's own update transients ----

        protected function optionName(string $what): string
        {
            return 'wharf_uc_' . $what . '_' . $this->productId;
        }

        private function readOption(string $what): array
        {
            $name = $this->optionName($what);
            $value = is_multisite() ? get_site_option($name, array()) : get_option($name, array());
            return is_array($value) ? $value : array();
        }

        private function writeOption(string $what, array $value): void
        {
            $name = $this->optionName($what);
            if (is_multisite()) {
                update_site_option($name, $value);
            } else {
                update_option($name, $value, false); // Not autoloaded: changelogs can be large.
            }
        }

        /** Last check time, last good answer and last error. */
        public function state(): array
        {
            return $this->readOption('state') + array('checked_at' => 0, 'answer' => null, 'answered_at' => 0, 'error' => null);
        }

        /** The last good answer of the server (normalised), or null before the first one. */
        public function getUpdate(): ?array
        {
            $state = $this->state();
            return is_array($state['answer']) ? $state['answer'] : null;
        }

        /** array('at' => time, 'message' => string) of the last failed check, or null. */
        public function getLastError(): ?array
        {
            $state = $this->state();
            return is_array($state['error']) ? $state['error'] : null;
        }

        public function getLicenseCode(): string
        {
            $license = $this->readOption('license');
            return isset($license['code']) && is_string($license['code']) ? $license['code'] : '';
        }

        /** The license object from the last activate/check answer, or null. */
        public function getLicenseStatus(): ?array
        {
            $license = $this->readOption('license');
            return isset($license['status']) && is_array($license['status']) ? $license['status'] : null;
        }

        /** 'beta' when the site chose beta releases on the license screen, else 'stable'. */
        public function getChannel(): string
        {
            $settings = $this->readOption('channel');
            return isset($settings['channel']) && $settings['channel'] === 'beta' ? 'beta' : 'stable';
        }

        public function setChannel(string $channel): void
        {
            $this->writeOption('channel', array('channel' => $channel === 'beta' ? 'beta' : 'stable'));
        }

        public function setLicenseCode(string $code, ?array $status = null): void
        {
            $this->writeOption('license', array('code' => trim($code), 'status' => $status, 'saved_at' => time()));
        }

        // ---- Update checks ----

        /** Cron (wp_update_plugins / wp_update_themes): at most every 12 h. */
        public function cronCheck(): void
        {
            $this->maybeCheck(self::MAX_AGE);
        }

        public function onAdminInit(): void
        {
            if (!$this->enabled || wp_doing_ajax()) {
                return;
            }
            $this->handleCheckLink();
            $page = isset($GLOBALS['pagenow']) ? $GLOBALS['pagenow'] : '';
            if ($page === 'update-core.php') {
                $this->maybeCheck(isset($_GET['force-check']) ? 0 : MINUTE_IN_SECONDS);
            } elseif (in_array($page, array('plugins.php', 'themes.php', 'update.php'), true)) {
                $this->maybeCheck(HOUR_IN_SECONDS);
            } else {
                $this->maybeCheck(self::MAX_AGE);
            }
        }

        public function maybeCheck(int $maxAge): void
        {
            $state = $this->state();
            if (time() - (int) $state['checked_at'] >= $maxAge) {
                $this->checkNow();
            }
        }

        /** Asks the server now; on failure keeps the last good answer and records the error. */
        public function checkNow(): bool
        {
            if (!$this->enabled) {
                return false;
            }
            try {
                $result = $this->fetchAnswer();
            } catch (\Throwable $e) {
                $result = 'Unexpected error: ' . $e->getMessage();
            }
            $state = $this->state();
            $state['checked_at'] = time();
            if (is_array($result)) {
                $state['answer'] = $result;
                $state['answered_at'] = time();
                $state['error'] = null;
            } else {
                $state['error'] = array('at' => time(), 'message' => (string) $result);
            }
            $this->writeOption('state', $state);
            return is_array($result);
        }

        /** @return array|string the normalised answer, or an error message */
        private function fetchAnswer()
        {
            $response = wp_remote_post($this->serverUrl . '/api/v1/updates/' . rawurlencode($this->productId), array(
                'timeout' => self::TIMEOUT,
                'redirection' => 2,
                'user-agent' => $this->userAgent(),
                'headers' => array(
                    'Accept' => 'application/json',
                    'Content-Type' => 'application/x-www-form-urlencoded',
                    'X-Wharf-Client' => self::VERSION,
                ),
                // POST keeps the purchase code out of access logs; encoded here as WordPress < 6.2 trips PHP 8.1 deprecations.
                'body' => http_build_query(array(
                    'installed_version' => $this->installedVersion(),
                    'php' => PHP_VERSION,
                    'locale' => get_locale(),
                    'checking_for_updates' => '1',
                    'license' => $this->getLicenseCode(),
                    'domain' => home_url(),
                    'wp' => $this->wpVersion(),
                    'channel' => $this->getChannel(),
                ), '', '&'),
            ));
            if (is_wp_error($response)) {
                return sprintf('Could not reach the update server: %s', $response->get_error_message());
            }
            $status = (int) wp_remote_retrieve_response_code($response);
            $data = json_decode((string) wp_remote_retrieve_body($response), true);
            if ($status !== 200) {
                $message = self::errorMessage($data);
                return sprintf('The update server answered HTTP %d%s', $status, $message !== '' ? ': ' . $message : '.');
            }
            if (!is_array($data)) {
                return 'The update server did not answer valid JSON.';
            }
            $answer = $this->normaliseAnswer($data);
            return $answer !== null ? $answer : 'The update server answered without a valid version.';
        }

        /** Keeps only known keys of the expected types, so nothing odd reaches WordPress or the page. */
        protected function normaliseAnswer(array $data): ?array
        {
            $version = isset($data['version']) && is_scalar($data['version']) ? trim((string) $data['version']) : '';
            if (!preg_match('/^[0-9A-Za-z._+~-]{1,64}$/', $version)) {
                return null;
            }
            $answer = array('version' => $version);
            foreach ($this->stringFields() as $key) {
                if (isset($data[$key]) && is_scalar($data[$key]) && !is_bool($data[$key])) {
                    $answer[$key] = (string) $data[$key];
                }
            }
            foreach ($this->mapFields() as $key) {
                if (isset($data[$key]) && is_array($data[$key])) {
                    $answer[$key] = array_filter($data[$key], 'is_string');
                }
            }
            foreach (array('download_url', 'details_url', 'homepage', 'author_homepage') as $key) {
                if (isset($answer[$key]) && !preg_match('#^https?://#i', $answer[$key])) {
                    unset($answer[$key]); // Only web URLs: WordPress fetches or links them.
                }
            }
            if (isset($data['license_error']) && is_array($data['license_error'])) {
                $error = $data['license_error'];
                $code = isset($error['code']) && is_string($error['code']) ? $error['code'] : 'unknown';
                $message = isset($error['message']) && is_string($error['message']) ? trim($error['message']) : '';
                $answer['license_error'] = array(
                    'code' => $code,
                    'message' => $message !== '' ? $message : 'Your purchase code does not allow downloading updates.',
                );
            }
            // Why a newer version is held back (it needs a newer PHP or WordPress): plain text, shown escaped.
            if (isset($data['compat_notice']) && is_string($data['compat_notice']) && trim($data['compat_notice']) !== '') {
                $answer['compat_notice'] = substr(trim($data['compat_notice']), 0, 500);
            }
            return $answer;
        }

        /** Whether the cached answer offers a newer version than the installed one. */
        public function hasNewerVersion(): bool
        {
            $answer = $this->getUpdate();
            $installed = $this->installedVersion();
            return $answer !== null && $installed !== '' && version_compare($answer['version'], $installed, '>');
        }

        /** The "Check for updates" link: nonce-protected, checks at once, then back to where it came from. */
        private function handleCheckLink(): void
        {
            if (!isset($_GET['wharf_uc_check']) || wp_unslash($_GET['wharf_uc_check']) !== $this->productId) {
                return;
            }
            if (!current_user_can($this->updateCapability())) {
                return;
            }
            check_admin_referer('wharf_uc_check_' . $this->productId);
            $this->checkNow();
            $back = remove_query_arg(array('wharf_uc_check', '_wpnonce'), wp_get_referer() ?: self_admin_url($this->kind() . 's.php'));
            wp_safe_redirect(add_query_arg('wharf_uc_checked', $this->productId, $back));
            exit;
        }

        public function checkLinkUrl(): string
        {
            // Not wp_nonce_url(): it returns HTML-escaped text, and callers escape with esc_url() themselves.
            return add_query_arg(array(
                'wharf_uc_check' => $this->productId,
                '_wpnonce' => wp_create_nonce('wharf_uc_check_' . $this->productId),
            ), self_admin_url($this->kind() . 's.php'));
        }

        // ---- HTTP helpers ----

        protected function wpVersion(): string
        {
            return isset($GLOBALS['wp_version']) ? (string) $GLOBALS['wp_version'] : '';
        }

        /** The same User-Agent WordPress core sends to wordpress.org. */
        protected function userAgent(): string
        {
            return 'WordPress/' . $this->wpVersion() . '; ' . home_url('/');
        }

        /** The message of a Wharf error body {"error": {"message"}}, or ''. */
        protected static function errorMessage($data): string
        {
            if (is_array($data) && isset($data['error']['message']) && is_string($data['error']['message'])) {
                return trim($data['error']['message']);
            }
            return '';
        }

        private function isOwnPackage($package): bool
        {
            return is_string($package) && strpos($package, $this->serverUrl . '/') === 0;
        }

        /** Downloads our own packages so a refusal shows the server's reason instead of "Download failed." */
        public function downloadPackage($reply, $package, $upgrader = null, $hookExtra = array())
        {
            if ($reply !== false || !$this->enabled || !$this->isOwnPackage($package)) {
                return $reply;
            }
            if (!function_exists('download_url')) {
                require_once ABSPATH . 'wp-admin/includes/file.php';
            }
            if (is_object($upgrader) && isset($upgrader->skin) && is_object($upgrader->skin)) {
                $upgrader->skin->feedback('downloading_package', preg_replace('/\?.*$/', '', $package)); // Escaped by the skin; token hidden.
            }
            $file = download_url($package, 300);
            if (!is_wp_error($file)) {
                return $file;
            }
            $data = $file->get_error_data();
            $body = is_array($data) && isset($data['body']) && is_string($data['body']) ? json_decode($data['body'], true) : null;
            $reason = self::errorMessage($body);
            return new \WP_Error('wharf_download_failed', sprintf('Download failed: %s', $reason !== '' ? $reason : $file->get_error_message()));
        }

        /** Renames the unzipped folder to the installed one (zips are often named after the release). */
        public function fixSourceFolder($source, $remoteSource = '', $upgrader = null, $hookExtra = array())
        {
            global $wp_filesystem;
            if (!$this->enabled || !is_string($source) || !is_array($hookExtra) || !$this->isOwnUpgrade($hookExtra)) {
                return $source;
            }
            $wanted = $this->folderName();
            $source = untrailingslashit($source);
            if ($wanted === '' || basename($source) === $wanted || $source === untrailingslashit((string) $remoteSource)) {
                return trailingslashit($source);
            }
            $target = trailingslashit((string) $remoteSource) . $wanted;
            if (!is_object($wp_filesystem) || !$wp_filesystem->move($source, $target, true)) {
                return new \WP_Error('wharf_rename_failed', sprintf('Could not rename the update folder to %s.', $wanted));
            }
            return trailingslashit($target);
        }

        /** Folder the product is installed in ('' for a single-file plugin). */
        abstract protected function folderName(): string;

        public function forgetInstalledVersion(): void
        {
            $this->installed = null;
        }

        // ---- License screen ----

        public function settingsUrl(): string
        {
            $slug = 'wharf-' . $this->kind() . '-license-' . $this->slug;
            return is_multisite()
                ? network_admin_url('settings.php?page=' . $slug)
                : admin_url($this->singleSiteParent() . '?page=' . $slug);
        }

        protected function settingsCapability(): string
        {
            return is_multisite() ? 'manage_network_options' : 'manage_options';
        }

        public function addMenu(): void
        {
            if (!$this->enabled) {
                return;
            }
            /* translators: %s: plugin or theme name */
            $title = sprintf(__('%s license', 'wharf-update-client'), $this->productName());
            $slug = 'wharf-' . $this->kind() . '-license-' . $this->slug;
            $render = array($this, 'renderSettingsPage');
            $this->pageHook = is_multisite()
                ? (string) add_submenu_page('settings.php', $title, $title, $this->settingsCapability(), $slug, $render)
                : $this->addSingleSiteMenu($title, $slug, $render);
            if ($this->pageHook !== '') {
                add_action('load-' . $this->pageHook, array($this, 'handleSettingsPost'));
            }
        }

        /** POST of the license form: capability, nonce, call the server, then redirect (no resubmits). */
        public function handleSettingsPost(): void
        {
            if (!isset($_SERVER['REQUEST_METHOD']) || $_SERVER['REQUEST_METHOD'] !== 'POST' || !isset($_POST['wharf_action'])) {
                return;
            }
            if (!current_user_can($this->settingsCapability())) {
                wp_die(esc_html__('Sorry, you are not allowed to manage this license.', 'wharf-update-client'), 403);
            }
            check_admin_referer('wharf_license_' . $this->productId);
            $action = is_string($_POST['wharf_action']) ? sanitize_key(wp_unslash($_POST['wharf_action'])) : '';
            $code = isset($_POST['wharf_license']) && is_string($_POST['wharf_license'])
                ? substr(trim(sanitize_text_field(wp_unslash($_POST['wharf_license']))), 0, 200)
                : '';
            if ($action === 'activate' || $action === 'channel') {
                $this->setChannel(isset($_POST['wharf_beta']) && $_POST['wharf_beta'] === '1' ? 'beta' : 'stable');
            }
            if ($action === 'channel') {
                $this->checkNow(); // What is offered depends on the channel.
                $flash = $this->getChannel() === 'beta'
                    ? array('success', __('This site now receives beta releases.', 'wharf-update-client'))
                    : array('success', __('This site now receives stable releases only.', 'wharf-update-client'));
            } elseif ($action === 'activate') {
                $flash = $code === '' ? $this->deactivate() : $this->activate($code);
            } elseif ($action === 'deactivate') {
                $flash = $this->deactivate();
            } elseif ($action === 'refresh') {
                $flash = $this->refreshLicense();
            } elseif ($action === 'check') {
                $flash = $this->checkNow()
                    ? array('success', __('Checked for updates.', 'wharf-update-client'))
                    : array('error', __('The update check failed; see below.', 'wharf-update-client'));
            } else {
                return;
            }
            set_transient($this->flashKey(), $flash, 120);
            wp_safe_redirect($this->settingsUrl());
            exit;
        }

        private function flashKey(): string
        {
            return 'wharf_uc_flash_' . get_current_user_id() . '_' . md5($this->productId);
        }

        /** Saves the code (even when refused: the server's reason then shows everywhere) and activates this site. */
        private function activate(string $code): array
        {
            $previous = $this->getLicenseCode();
            if ($previous !== '' && $previous !== $code) {
                $this->licenseRequest('deactivate', $previous); // Best effort: frees the old code's site slot.
            }
            $result = $this->licenseRequest('activate', $code);
            $this->setLicenseCode($code, $result['license']);
            $this->checkNow(); // The download link depends on the code.
            return $result['ok']
                ? array('success', __('Purchase code saved and this site activated.', 'wharf-update-client'))
                : array('error', $result['message']);
        }

        private function deactivate(): array
        {
            $code = $this->getLicenseCode();
            if ($code !== '') {
                $result = $this->licenseRequest('deactivate', $code);
                if (!$result['ok'] && $result['status'] === 0) {
                    return array('error', $result['message']); // Unreachable server: keep the code, try again later.
                }
            }
            $this->setLicenseCode('', null);
            $this->checkNow();
            return array('success', __('Purchase code removed from this site.', 'wharf-update-client'));
        }

        private function refreshLicense(): array
        {
            $code = $this->getLicenseCode();
            if ($code === '') {
                return array('error', __('Enter a purchase code first.', 'wharf-update-client'));
            }
            $result = $this->licenseRequest('check', $code);
            if ($result['license'] !== null) {
                $this->setLicenseCode($code, $result['license']);
            }
            return $result['ok'] ? array('success', __('License status refreshed.', 'wharf-update-client')) : array('error', $result['message']);
        }

        /** POST /api/v1/licenses/{activate|deactivate|check}: array('ok', 'status', 'license', 'message'). */
        public function licenseRequest(string $action, string $code): array
        {
            $response = wp_remote_post($this->serverUrl . '/api/v1/licenses/' . $action, array(
                'timeout' => self::TIMEOUT,
                'redirection' => 2,
                'user-agent' => $this->userAgent(),
                'headers' => array('Content-Type' => 'application/json', 'Accept' => 'application/json', 'X-Wharf-Client' => self::VERSION),
                'body' => wp_json_encode(array('productId' => $this->productId, 'license' => $code, 'domain' => home_url())),
            ));
            if (is_wp_error($response)) {
                /* translators: %s: error message */
                $message = sprintf(__('Could not reach the update server: %s', 'wharf-update-client'), $response->get_error_message());
                return array('ok' => false, 'status' => 0, 'license' => null, 'message' => $message);
            }
            $status = (int) wp_remote_retrieve_response_code($response);
            $data = json_decode((string) wp_remote_retrieve_body($response), true);
            $license = is_array($data) && isset($data['license']) && is_array($data['license']) ? $data['license'] : null;
            if ($status === 200 && $license !== null) {
                return array('ok' => true, 'status' => 200, 'license' => $license, 'message' => '');
            }
            $message = self::errorMessage($data);
            if ($message === '') {
                /* translators: %d: HTTP status code */
                $message = sprintf(__('The update server answered HTTP %d.', 'wharf-update-client'), $status);
            }
            $retry = (int) wp_remote_retrieve_header($response, 'retry-after');
            if ($status === 429 && $retry > 0) {
                /* translators: %d: seconds */
                $message .= ' ' . sprintf(__('Try again in %d seconds.', 'wharf-update-client'), $retry);
            }
            return array('ok' => false, 'status' => $status, 'license' => null, 'message' => $message);
        }

        public function renderSettingsPage(): void
        {
            if (!current_user_can($this->settingsCapability())) {
                return;
            }
            $code = $this->getLicenseCode();
            $flash = get_transient($this->flashKey());
            delete_transient($this->flashKey());
            echo '<div class="wrap"><h1>' . esc_html(get_admin_page_title()) . '</h1>';
            if (is_array($flash) && count($flash) === 2) {
                $class = $flash[0] === 'success' ? 'notice-success' : 'notice-error';
                echo '<div class="notice ' . esc_attr($class) . '"><p>' . esc_html((string) $flash[1]) . '</p></div>';
            }
            $error = $this->getLastError();
            if ($error !== null) {
                /* translators: 1: date and time, 2: error message */
                $text = sprintf(__('The last update check (%1$s) failed: %2$s The previous answer is kept.', 'wharf-update-client'), wp_date('Y-m-d H:i', (int) $error['at']), $error['message']);
                echo '<div class="notice notice-warning inline"><p>' . esc_html($text) . '</p></div>';
            }
            $this->renderLicenseError();
            $this->renderCompatNotice();
            echo '<form method="post" action="' . esc_url($this->settingsUrl()) . '">';
            wp_nonce_field('wharf_license_' . $this->productId);
            echo '<table class="form-table" role="presentation"><tr><th scope="row"><label for="wharf-license-code">'
                . esc_html__('Purchase code', 'wharf-update-client') . '</label></th><td>'
                . '<input type="text" id="wharf-license-code" name="wharf_license" class="regular-text code" autocomplete="off" value="' . esc_attr($code) . '" />'
                . '</td></tr>';
            echo '<tr><th scope="row">' . esc_html__('Release channel', 'wharf-update-client') . '</th><td><label>'
                . '<input type="checkbox" id="wharf-beta" name="wharf_beta" value="1"' . ($this->getChannel() === 'beta' ? ' checked="checked"' : '') . ' /> '
                . esc_html__('Receive beta releases (pre-releases; may be less stable)', 'wharf-update-client') . '</label> ';
            self::button('channel', __('Save channel', 'wharf-update-client'), 'button');
            echo '</td></tr>';
            $this->renderStatusRows();
            echo '</table><p class="submit">';
            self::button('activate', __('Save and activate', 'wharf-update-client'), 'button button-primary');
            if ($code !== '') {
                self::button('deactivate', __('Deactivate', 'wharf-update-client'), 'button');
                self::button('refresh', __('Refresh status', 'wharf-update-client'), 'button');
            }
            self::button('check', __('Check for updates now', 'wharf-update-client'), 'button');
            echo '</p></form></div>';
        }

        private static function button(string $action, string $label, string $class): void
        {
            echo '<button type="submit" name="wharf_action" value="' . esc_attr($action) . '" class="' . esc_attr($class) . '">' . esc_html($label) . '</button> ';
        }

        private function renderStatusRows(): void
        {
            $license = $this->getLicenseStatus();
            $answer = $this->getUpdate();
            $rows = array();
            if ($license !== null) {
                $limit = function ($used, $allowed) {
                    $used = is_numeric($used) ? (int) $used : 0;
                    /* translators: 1: used, 2: allowed */
                    return is_numeric($allowed) ? sprintf(__('%1$d of %2$d', 'wharf-update-client'), $used, (int) $allowed) : sprintf(__('%d (no limit)', 'wharf-update-client'), $used);
                };
                $rows[__('Status', 'wharf-update-client')] = isset($license['status']) && is_string($license['status']) ? $license['status'] : '?';
                $rows[__('Expires', 'wharf-update-client')] = isset($license['expires_at']) && is_string($license['expires_at']) ? $license['expires_at'] : __('Never', 'wharf-update-client');
                $rows[__('Sites', 'wharf-update-client')] = $limit(isset($license['sites_used']) ? $license['sites_used'] : 0, isset($license['sites_allowed']) ? $license['sites_allowed'] : null);
                $rows[__('Downloads', 'wharf-update-client')] = $limit(isset($license['downloads_used']) ? $license['downloads_used'] : 0, isset($license['downloads_allowed']) ? $license['downloads_allowed'] : null);
            }
            $rows[__('Installed version', 'wharf-update-client')] = $this->installedVersion();
            if ($answer !== null) {
                $rows[__('Latest version', 'wharf-update-client')] = $answer['version'];
            }
            foreach ($rows as $label => $value) {
                echo '<tr><th scope="row">' . esc_html($label) . '</th><td>' . esc_html((string) $value) . '</td></tr>';
            }
        }

        // ---- Notices ----

        /** The server's own sentence about the license, and where to fix it. */
        private function renderLicenseError(string $prefix = ''): bool
        {
            $answer = $this->getUpdate();
            if ($answer === null || !isset($answer['license_error'])) {
                return false;
            }
            echo '<div class="notice notice-warning wharf-license-error"><p>' . $prefix . esc_html($answer['license_error']['message'])
                . ' <a href="' . esc_url($this->settingsUrl()) . '">' . esc_html($this->licenseLinkLabel()) . '</a></p></div>';
            return true;
        }

        /** The server's reason a newer version is not offered to this site (its PHP or WordPress is too old). */
        private function renderCompatNotice(string $prefix = ''): void
        {
            $answer = $this->getUpdate();
            if ($answer === null || !isset($answer['compat_notice'])) {
                return;
            }
            echo '<div class="notice notice-info wharf-compat-notice"><p>' . $prefix . esc_html($answer['compat_notice']) . '</p></div>';
        }

        protected function licenseLinkLabel(): string
        {
            return $this->getLicenseCode() === ''
                ? __('Enter your purchase code', 'wharf-update-client')
                : __('Manage your purchase code', 'wharf-update-client');
        }

        public function renderNotices(): void
        {
            $screen = function_exists('get_current_screen') ? get_current_screen() : null;
            if (!$this->enabled || !is_object($screen) || !in_array($screen->id, $this->noticeScreens(), true)) {
                return;
            }
            if (!current_user_can($this->updateCapability())) {
                return;
            }
            $this->renderLicenseError('<strong>' . esc_html($this->productName()) . ':</strong> ');
            $this->renderCompatNotice('<strong>' . esc_html($this->productName()) . ':</strong> ');
            if (isset($_GET['wharf_uc_checked']) && wp_unslash($_GET['wharf_uc_checked']) === $this->productId) {
                $this->renderCheckResult();
            }
        }

        private function renderCheckResult(): void
        {
            $error = $this->getLastError();
            $answer = $this->getUpdate();
            if ($error !== null) {
                /* translators: 1: product name, 2: error message */
                $text = sprintf(__('%1$s: the update check failed: %2$s', 'wharf-update-client'), $this->productName(), $error['message']);
            } elseif ($answer !== null && $this->hasNewerVersion()) {
                /* translators: 1: product name, 2: version */
                $text = sprintf(__('%1$s: version %2$s is available.', 'wharf-update-client'), $this->productName(), $answer['version']);
            } else {
                /* translators: %s: product name */
                $text = sprintf(__('%s is up to date.', 'wharf-update-client'), $this->productName());
            }
            $class = $error !== null ? 'notice-error' : 'notice-success';
            echo '<div class="notice ' . esc_attr($class) . ' is-dismissible"><p>' . esc_html($text) . '</p></div>';
        }
    }
}

// ---- wharf-shared:end ----

if (!class_exists(__NAMESPACE__ . '\\ThemeUpdateChecker', false)) {
    /** Updates one theme from a Wharf server. */
    class ThemeUpdateChecker extends Client
    {
        /** @var string absolute path of the theme folder */
        private $themeDir = '';

        /**
         * @param string $themeFile any file of the theme (__FILE__ in functions.php), or its folder
         * @param string $serverUrl e.g. https://updates.example.com
         * @param string $productId the product's ID in Wharf
         */
        public function __construct(string $themeFile, string $serverUrl, string $productId)
        {
            $this->themeDir = self::themeDir($themeFile);
            $this->setUp($themeFile, $serverUrl, $productId, basename($this->themeDir));
        }

        /** Starts the checker with the values filled into the copy of this file bundled with the theme. */
        public static function boot(string $themeFile): ?ThemeUpdateChecker
        {
            $root = self::themeDir($themeFile);
            $defaults = Defaults::find('theme', $root . '/style.css', $root);
            if ($defaults === null) {
                self::misconfigured(sprintf('Wharf update client: no theme_update_check.php found in %s; pass the server URL and product ID to the constructor.', $root));
                return null;
            }
            $existing = Client::instance('theme', $defaults['product_id']);
            if ($existing instanceof ThemeUpdateChecker) {
                return $existing;
            }
            $checker = new ThemeUpdateChecker($themeFile, $defaults['server_url'], $defaults['product_id']);
            return $checker->isEnabled() ? $checker : null;
        }

        /** The theme folder holding $file: the nearest folder with a style.css right inside a theme root. */
        public static function themeDir(string $file): string
        {
            $roots = array();
            $registered = isset($GLOBALS['wp_theme_directories']) ? (array) $GLOBALS['wp_theme_directories'] : array();
            foreach ($registered as $root) {
                $roots[] = Defaults::path((string) $root);
            }
            $dir = Defaults::path(is_dir($file) ? $file : dirname($file));
            $nearest = '';
            for ($depth = 0; $depth < 8; $depth++) {
                if (is_file($dir . '/style.css')) {
                    if (in_array(Defaults::path(dirname($dir)), $roots, true)) {
                        return $dir;
                    }
                    $nearest = $nearest !== '' ? $nearest : $dir;
                }
                if (dirname($dir) === $dir) {
                    break;
                }
                $dir = dirname($dir);
            }
            return $nearest !== '' ? $nearest : Defaults::path(is_dir($file) ? $file : dirname($file));
        }

        public function kind(): string
        {
            return 'theme';
        }

        public function stylesheet(): string
        {
            return $this->slug;
        }

        protected function addKindHooks(): void
        {
            add_filter('site_transient_update_themes', array($this, 'injectUpdate'));
            if (is_admin()) {
                add_action('in_theme_update_message-' . $this->slug, array($this, 'updateMessage'), 10, 0);
            }
        }

        private function theme(): \WP_Theme
        {
            return wp_get_theme($this->slug, dirname($this->themeDir));
        }

        public function installedVersion(): string
        {
            if ($this->installed === null) {
                $this->installed = (string) $this->theme()->get('Version');
            }
            return $this->installed;
        }

        public function productName(): string
        {
            $name = (string) $this->theme()->get('Name');
            return $name !== '' ? $name : $this->slug;
        }

        protected function stringFields(): array
        {
            return array('name', 'details_url', 'download_url', 'requires', 'requires_php');
        }

        protected function mapFields(): array
        {
            return array();
        }

        protected function folderName(): string
        {
            return $this->slug;
        }

        protected function isOwnUpgrade(array $hookExtra): bool
        {
            return isset($hookExtra['theme']) && $hookExtra['theme'] === $this->slug;
        }

        protected function updateCapability(): string
        {
            return 'update_themes';
        }

        protected function noticeScreens(): array
        {
            return array('themes', 'themes-network', 'update-core', 'update-core-network');
        }

        protected function addSingleSiteMenu(string $title, string $slug, callable $render): string
        {
            return (string) add_theme_page($title, $title, 'manage_options', $slug, $render);
        }

        protected function singleSiteParent(): string
        {
            return 'themes.php';
        }

        /** The entry WordPress core expects in update_themes->response / ->no_update. */
        public function transientItem(): ?array
        {
            $answer = $this->getUpdate();
            if ($answer === null) {
                return null;
            }
            return array(
                'theme' => $this->slug,
                'new_version' => $answer['version'],
                'url' => isset($answer['details_url']) ? $answer['details_url'] : '',
                'package' => isset($answer['download_url']) ? $answer['download_url'] : '',
                'requires' => isset($answer['requires']) ? $answer['requires'] : '',
                'requires_php' => isset($answer['requires_php']) ? $answer['requires_php'] : '',
            );
        }

        /** Read filter of update_themes: puts our cached answer in, replacing any same-named entry. */
        public function injectUpdate($transient)
        {
            if (!$this->enabled || ($transient !== false && !is_object($transient))) {
                return $transient;
            }
            try {
                if (!is_object($transient)) {
                    $transient = new \stdClass();
                }
                foreach (array('response', 'no_update') as $list) {
                    if (!isset($transient->$list) || !is_array($transient->$list)) {
                        $transient->$list = array();
                    }
                    unset($transient->{$list}[$this->slug]);
                }
                $item = $this->transientItem();
                if ($item !== null) {
                    $transient->{$this->hasNewerVersion() ? 'response' : 'no_update'}[$this->slug] = $item;
                }
            } catch (\Throwable $e) {
                return $transient; // Never break the Themes screen.
            }
            return $transient;
        }

        /** Network Themes list: the server's reason when the download is withheld. */
        public function updateMessage(): void
        {
            $answer = $this->getUpdate();
            if ($answer !== null && isset($answer['license_error'])) {
                echo ' <strong>' . esc_html($answer['license_error']['message']) . '</strong> <a href="' . esc_url($this->settingsUrl()) . '">'
                    . esc_html($this->licenseLinkLabel()) . '</a>';
            }
        }
    }
}

// ---- Filled in by the Wharf dashboard for this product; read by ThemeUpdateChecker::boot() ----
Defaults::register(__FILE__, 'theme', array(
    'server_url' => '{{WHARF_SERVER_URL}}',
    'product_id' => '{{WHARF_PRODUCT_ID}}',
));
