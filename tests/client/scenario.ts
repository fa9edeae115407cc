// A client generated from docs/openapi.json, used as an integrator would:
// openapi-typescript makes the types (build/client/openapi.d.ts), and
// openapi-fetch is the runtime client typed by them. tsc --strict checks
// this file against the description, so a field, path or parameter the
// description does not have fails the type check before anything runs.
// Run by tests/api/generated_client.test.js against the live stack.
import createClient from 'openapi-fetch';
import type { components, paths } from 'parley-openapi';

// The little of Node this file uses (no @types/node needed for it).
declare const process: {
	env: Record<string, string | undefined>;
	pid: number;
	exit(code: number): never;
};

type Schemas = components['schemas'];
type Event = Schemas['Event'];
type Message = Schemas['Message'];

const baseUrl = process.env.PARLEY_URL ?? 'http://127.0.0.1:18080';
const anonymous = createClient<paths>({ baseUrl });

// One signed-in user: the generated client with the session's token.
interface User {
	id: number;
	username: string;
	api: ReturnType<typeof createClient<paths>>;
}

function fail(what: string, status: number, error: unknown): never {
	throw new Error(`${what}: ${status} ${JSON.stringify(error)}`);
}

async function register(name: string): Promise<User> {
	const username = `${name}_${process.pid}_${Date.now() % 1e6}`;
	const { data, error, response } = await anonymous.POST('/api/v1/auth/register', {
		body: { username, password: 'correct horse battery', display_name: name },
	});
	if (data === undefined) fail('register', response.status, error);
	return {
		id: data.user.id,
		username: data.user.username,
		api: createClient<paths>({
			baseUrl,
			headers: { Authorization: `Bearer ${data.token}` },
		}),
	};
}

// The data of an event narrowed by its `type`. Event is KnownEvent (one
// schema per type, discriminated by `type`) | OtherEvent (a type added
// after this description: any string, data of unknown shape), so after
// `ev.type === 'message'` tsc still allows OtherEvent, and `data` is
// EventDataMessage | Record<string, never>. dataOf picks the known member;
// naming another type's data (EventDataReceipt, say) fails the check.
function dataOf<T>(data: T | Record<string, never>): T {
	return data as T;
}

// The message of a `message` event, undefined for any other event.
function messageOf(ev: Event): Message | undefined {
	if (ev.type !== 'message')
		return undefined;
	return dataOf<Schemas['EventDataMessage']>(ev.data).message;
}

async function main(): Promise<void> {
	const alice = await register('alice');
	const bob = await register('bob');

	// Alice asks, Bob accepts.
	const asked = await alice.api.POST('/api/v1/friends/requests', {
		body: { user_id: bob.id, memo: 'hi, it is Alice' },
	});
	if (asked.data === undefined) fail('friend request', asked.response.status, asked.error);
	const requestId = asked.data.request.id;
	const accepted = await bob.api.POST('/api/v1/friends/requests/{id}/accept', {
		params: { path: { id: requestId } },
	});
	if (accepted.data === undefined) fail('accept', accepted.response.status, accepted.error);

	// Alice writes to Bob.
	const sent = await alice.api.POST('/api/v1/messages', {
		body: { to: bob.id, client_id: `c-${process.pid}`, type: 'text', body: { text: 'hello, Bob' } },
	});
	if (sent.data === undefined) fail('send', sent.response.status, sent.error);
	const message: Message = sent.data.message;

	// Bob's event stream: the message arrives as a `message` event.
	const polled = await bob.api.GET('/api/v1/events', {
		params: { query: { since: 0, timeout: 5 } },
	});
	if (polled.data === undefined) fail('poll', polled.response.status, polled.error);
	// The description also has the JSONP answer (?callback=, script text).
	const batch = polled.data;
	if (typeof batch === 'string') throw new Error(`poll answered JSONP: ${batch}`);
	const received = batch.events.map(messageOf).find((m) => m?.id === message.id);
	if (received === undefined)
		throw new Error(`no message event for ${message.id} in ${JSON.stringify(batch.events)}`);

	// The conversation's history has it too.
	const history = await bob.api.GET('/api/v1/conversations/{id}/messages', {
		params: { path: { id: message.conversation_id }, query: { limit: 10 } },
	});
	if (history.data === undefined) fail('history', history.response.status, history.error);

	// Logging out ends the session: the same client is refused after.
	const out = await alice.api.POST('/api/v1/auth/logout');
	if (out.error !== undefined) fail('logout', out.response.status, out.error);
	const after = await alice.api.GET('/api/v1/auth/me');

	console.log(JSON.stringify({
		alice: alice.username,
		bob: bob.username,
		friend_request: { id: requestId, state: accepted.data.request.state },
		sent: { id: message.id, seq: message.seq, type: message.type },
		received: { id: received.id, from: received.from, body: received.body },
		next: batch.next,
		history: history.data.messages.map((m) => ({ id: m.id, seq: m.seq })),
		after_logout: { status: after.response.status, code: after.error?.error.code },
	}));
}

main().catch((e: unknown) => {
	console.error(e instanceof Error ? e.stack : e);
	process.exit(1);
});
