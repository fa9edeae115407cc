<?php
/**
 * Parley\Embed::frame(): the snippet loads embed.js from the server and
 * calls ParleyEmbed.frame with exactly the given values, and no value,
 * however hostile, can close the script element or an attribute. The
 * script is run in node with a stub ParleyEmbed to see what a browser's
 * JavaScript engine would receive.
 */

declare(strict_types=1);

use Parley\Embed;

/** The inline scripts of $html evaluated in node; returns the options each ParleyEmbed.frame call got. */
function frame_calls(string $html): array
{
    preg_match_all('~<script>(.*?)</script>~s', $html, $m);
    $js = 'var calls = []; var ParleyEmbed = { frame: function (o) { calls.push(o); } };' . "\n"
        . implode("\n", $m[1]) . "\nprocess.stdout.write(JSON.stringify(calls));";
    $proc = proc_open(['node', '-e', $js], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    T::eq(0, proc_close($proc), "node ran the snippet ($err)");
    return json_decode($out, true);
}

return [
    'the snippet: a container, embed.js from the server, one frame call with the ticket' => function (): void {
        $html = Embed::frame('http://127.0.0.1:8080/', 'TICKET-abc_123', 'chat', ['width' => 900, 'height' => '70vh']);
        T::eq(
            "<div id=\"chat\"></div>\n<script src=\"http://127.0.0.1:8080/embed.js\"></script>\n"
            . "<script>ParleyEmbed.frame({\"server\":\"http://127.0.0.1:8080\",\"container\":\"chat\",\"width\":900,"
            . "\"height\":\"70vh\",\"ticket\":\"TICKET-abc_123\"});</script>\n",
            $html,
            'the HTML'
        );
        T::eq([['server' => 'http://127.0.0.1:8080', 'container' => 'chat', 'width' => 900, 'height' => '70vh',
            'ticket' => 'TICKET-abc_123']], frame_calls($html), 'what ParleyEmbed.frame receives');
        $noDiv = Embed::frame('https://chat.example.com', 't', 'parley', ['div' => false]);
        T::ok(!str_contains($noDiv, '<div'), 'div => false leaves the container to the page');
        T::eq([['server' => 'https://chat.example.com', 'container' => 'parley', 'ticket' => 't']], frame_calls($noDiv), 'defaults');
    },

    'hostile values cannot break out of the script or the attributes' => function (): void {
        $evil = "</script><script>alert(1)</script><!-- \"' & \u{2028}\u{2029} é";
        $container = "x\"><img src=x onerror=alert(1)>";
        $html = Embed::frame('https://chat.example.com', $evil, $container, ['title' => $evil, 'width' => $evil]);
        T::eq(2, substr_count(strtolower($html), '</script'), 'only the two closing tags the snippet writes');
        T::eq(2, substr_count(strtolower($html), '<script'), 'only the two opening tags the snippet writes');
        T::ok(!str_contains($html, '<img'), 'no tag from the container id');
        T::ok(!str_contains($html, '<!--'), 'no comment opener (it changes how <script> content parses)');
        T::ok(!preg_match('/[\x{2028}\x{2029}]/u', $html), 'no raw line separators (a syntax error for old engines)');
        T::ok(str_contains($html, '<div id="x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"></div>'), 'the id attribute is escaped');
        T::eq([['server' => 'https://chat.example.com', 'container' => $container, 'width' => $evil,
            'title' => $evil, 'ticket' => $evil]], frame_calls($html), 'the values arrive unchanged');
    },

    'only an http(s) origin is accepted as the server' => function (): void {
        foreach (['javascript:alert(1)', 'chat.example.com', 'https://chat.example.com/path', '//evil', 'https://a b'] as $bad) {
            try {
                Embed::frame($bad, 't');
                T::fail("accepted $bad");
            } catch (InvalidArgumentException $e) {
                T::ok(true, "refused $bad");
            }
        }
    },
];
