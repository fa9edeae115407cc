<?php
/**
 * The HTML that shows the full Parley client, signed in, inside a page of
 * the site: Parley's embed.js plus one ParleyEmbed.frame() call carrying a
 * one-time login ticket (Client::createLoginTicket). The frame redeems the
 * ticket at POST /api/v1/auth/ticket, so neither the site's secret nor a
 * long-lived token ever reaches the page.
 *
 * Every value is JSON-encoded with <, >, &, ' and " as \u escapes (and
 * non-ASCII as \u escapes too, which old browsers need for U+2028), and
 * attributes are HTML-escaped, so no value can end the script element or
 * the attribute it is in.
 */

declare(strict_types=1);

namespace Parley;

final class Embed
{
    private const JSON_FLAGS = JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT
        | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR;

    /**
     * @param string $server      Parley's origin as the browser reaches it, e.g. "https://chat.example.com"
     * @param string $ticket      from Client::createLoginTicket(); valid 60 s, once: mint one per page view
     * @param string $containerId the element the iframe goes into
     * @param array{div?:bool, width?:int|string, height?:int|string, title?:string} $opts
     *        div: also emit <div id="$containerId"></div> first (default true; false when the page has it);
     *        width/height: numbers are pixels, strings any CSS length (default 100% x 600px);
     *        title: the iframe's title
     */
    public static function frame(string $server, string $ticket, string $containerId = 'parley', array $opts = []): string
    {
        $server = rtrim($server, '/');
        if (!preg_match('~^https?://[^/?#\s]+$~i', $server)) {
            throw new \InvalidArgumentException('Parley: $server must be an http(s) origin such as https://chat.example.com');
        }
        $config = ['server' => $server, 'container' => $containerId];
        foreach (['width', 'height', 'title'] as $key) {
            if (isset($opts[$key])) {
                $config[$key] = $opts[$key];
            }
        }
        $config['ticket'] = $ticket;

        $html = '';
        if ($opts['div'] ?? true) {
            $html .= '<div id="' . self::attr($containerId) . '"></div>' . "\n";
        }
        $html .= '<script src="' . self::attr($server . '/embed.js') . '"></script>' . "\n";
        $html .= '<script>ParleyEmbed.frame(' . json_encode($config, self::JSON_FLAGS) . ');</script>' . "\n";
        return $html;
    }

    private static function attr(string $value): string
    {
        return htmlspecialchars($value, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
    }
}
