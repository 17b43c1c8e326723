/**
 * The shared budget's state in Redis, kept by two Lua scripts so that every change is atomic across
 * processes, timed by Redis's own clock (the machines' clocks may differ; one Redis clock orders
 * every grant and answer). Three keys per token:
 *
 * - `…:budget`, a hash: `seq` (grants so far), `last` (when the last spaced one was granted), `limit` and
 *   `window` (the server's budget per window, as the last process that knew it said), `foreign` and
 *   `foreignUntil` (requests not ours the server counted, and until when they may be in its window),
 *   `heardGrant`, `heardRemaining` and `heardOlder` (the latest Remaining in grant order, and how many
 *   grants were in flight when that one was granted: the server may count them after it), and
 *   `older:<grant>` for each grant in flight (that count, kept until its answer);
 * - `…:fly`, a sorted set: the grants in flight, by when they were granted;
 * - `…:log`, a sorted set: the grants answered, by when the answer came (the last minute kept).
 *
 * A request counts against a window from its grant until a window after its answer: the server
 * counted it no earlier than it was granted and no later than it answered, so `limit` grants in
 * `window` of answers can never put more than `limit` in any window of the server's, fixed or
 * sliding, however the windows lie. Within that, processes burst: nothing spaces them. And the
 * server's own word leaves room too: the latest Remaining, less every grant since and every older
 * one in flight, is room in any window (a window renewed only adds to it) — so once the first
 * request of a new window is answered, the rest of it goes at once rather than slot by slot.
 */

/** `X-RateLimit-Limit` is per minute: no budget window is longer, and the log keeps no more. */
export const LONGEST_WINDOW_MS = 60_000;
/** A grant never answered (its process died) counts as answered this long after it was granted. */
export const FLY_TTL_MS = 60_000;
/** The keys of a budget nobody uses any more vanish after this. */
export const KEY_TTL_MS = 120_000;
/** While nothing tells the budget (no process heard it yet), a grant waits this long for an answer to. */
export const UNKNOWN_POLL_MS = 25;

const NOW = `
-- Before Redis 5, a script that reads the clock may write only as its effects (since 7, always so).
if redis.replicate_commands then
  redis.replicate_commands()
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: budget, fly, log. ARGV: mode ('burst' or 'spaced'), limit and window (0: not known here),
 * spacing (ms, 'spaced'), then the TTLs. A grant needs room in the window (whatever the mode, once
 * any process knows the limit) and, spaced, one spacing after the last spaced grant of any process; with
 * no limit known anywhere, a burst goes one request at a time until an answer tells it. Answers
 * `{1, grant}` or `{0, ms to wait}`.
 */
export const TAKE = `${NOW}
local budget, fly, log = KEYS[1], KEYS[2], KEYS[3]
local mode = ARGV[1]
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local spacing = tonumber(ARGV[4])
local flyTtl = tonumber(ARGV[5])
local keyTtl = tonumber(ARGV[6])
local longest = tonumber(ARGV[7])
local unknownPoll = tonumber(ARGV[8])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', fly, '-inf', now - flyTtl)) do
  redis.call('ZREM', fly, id)
  redis.call('HDEL', budget, 'older:' .. id)
  redis.call('ZADD', log, now, id)
end
redis.call('ZREMRANGEBYSCORE', log, '-inf', now - longest)
if limit > 0 and window > 0 then
  redis.call('HSET', budget, 'limit', limit, 'window', window)
else
  limit = tonumber(redis.call('HGET', budget, 'limit') or '0')
  window = tonumber(redis.call('HGET', budget, 'window') or '0')
end
local wait = 0
if mode == 'spaced' then
  local last = tonumber(redis.call('HGET', budget, 'last') or '0')
  if now < last + spacing then
    wait = last + spacing - now
  end
end
if limit > 0 and window > 0 then
  local counted = redis.call('ZCOUNT', log, now - window, '+inf') + redis.call('ZCARD', fly)
  local foreign = 0
  local foreignUntil = tonumber(redis.call('HGET', budget, 'foreignUntil') or '0')
  if foreignUntil > now then
    foreign = tonumber(redis.call('HGET', budget, 'foreign') or '0')
  end
  -- What the server said last (in grant order) leaves room too: its Remaining, less every grant
  -- after that one and every one in flight when it was granted (the server may count those after it).
  local heard = redis.call('HMGET', budget, 'heardGrant', 'heardRemaining', 'heardOlder')
  local credit = 0
  if heard[1] then
    local granted = tonumber(redis.call('HGET', budget, 'seq') or '0')
    credit = tonumber(heard[2]) - (granted - tonumber(heard[1])) - tonumber(heard[3]) - foreign
  end
  if counted + foreign >= limit and credit <= 0 then
    local free = window
    local oldest = redis.call('ZRANGEBYSCORE', log, now - window, '+inf', 'LIMIT', 0, 1, 'WITHSCORES')
    if oldest[2] then
      free = math.min(free, tonumber(oldest[2]) + window - now)
    end
    if foreign > 0 then
      free = math.min(free, foreignUntil - now)
    end
    wait = math.max(wait, free, 1)
  end
elseif mode == 'burst' and redis.call('ZCARD', fly) > 0 then
  wait = unknownPoll
end
if wait > 0 then
  return {0, wait}
end
local grant = redis.call('HINCRBY', budget, 'seq', 1)
-- Grants in flight now may be counted after this one (any answered before were counted before it).
redis.call('HSET', budget, 'older:' .. grant, redis.call('ZCARD', fly))
if mode == 'spaced' then
  redis.call('HSET', budget, 'last', now)
end
redis.call('ZADD', fly, now, grant)
redis.call('PEXPIRE', budget, keyTtl)
redis.call('PEXPIRE', fly, keyTtl)
redis.call('PEXPIRE', log, keyTtl)
return {1, grant}
`;

/**
 * KEYS: budget, fly, log. ARGV: grant, 'sent' or 'unused', the server's limit and remaining (-1:
 * not said), the window (0: not known), then the TTL. A grant unused leaves no trace; one sent counts
 * from its answer. Where the server counted more than every grant that may be in its window, the
 * difference was spent by someone else: counted too until a window from now, with one more left.
 */
export const ANSWER = `${NOW}
local budget, fly, log = KEYS[1], KEYS[2], KEYS[3]
local grant = ARGV[1]
local outcome = ARGV[2]
local limit = tonumber(ARGV[3])
local remaining = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local keyTtl = tonumber(ARGV[6])
redis.call('ZREM', fly, grant)
local older = tonumber(redis.call('HGET', budget, 'older:' .. grant) or '-1')
redis.call('HDEL', budget, 'older:' .. grant)
if outcome ~= 'sent' then
  return 0
end
redis.call('ZADD', log, now, grant)
redis.call('PEXPIRE', log, keyTtl)
-- What is heard below lives as long as the log that it is judged against.
redis.call('PEXPIRE', budget, keyTtl)
local heardGrant = tonumber(redis.call('HGET', budget, 'heardGrant') or '0')
if remaining >= 0 and older >= 0 and tonumber(grant) > heardGrant then
  redis.call('HSET', budget, 'heardGrant', grant, 'heardRemaining', remaining, 'heardOlder', older)
end
if limit > 0 and remaining >= 0 and window > 0 then
  local counted = redis.call('ZCOUNT', log, now - window, '+inf') + redis.call('ZCARD', fly)
  local seen = limit - remaining
  if seen > counted then
    redis.call('HSET', budget, 'foreign', seen - counted + 1, 'foreignUntil', now + window)
    return seen - counted
  end
end
return 0
`;

/** What `TAKE` answered: a grant to send on (its number, to hand back), or how long to wait first. */
export type Take = {readonly granted: true; readonly grant: number} | {readonly granted: false; readonly waitMs: number};

/** `TAKE`'s answer read back; anything else is Redis not being the Redis we talk to. */
export function readTake(answer: unknown): Take {
	if (Array.isArray(answer) && answer.length === 2 && typeof answer[0] === 'number' && typeof answer[1] === 'number') {
		return answer[0] === 1 ? {granted: true, grant: answer[1]} : {granted: false, waitMs: Math.max(1, answer[1])};
	}

	throw new Error(`Redis answered the budget script with ${JSON.stringify(answer)}`);
}

/**
 * The keys of a budget (`budgetKey(token)`), in the order the scripts take them; one hash tag, so
 * that a Redis Cluster keeps them in one slot (a script may only touch keys of one).
 */
export function budgetKeys(key: string): [string, string, string] {
	return [`{${key}}:budget`, `{${key}}:fly`, `{${key}}:log`];
}

/** The pub/sub channel of a budget: hellos and pauses. */
export function budgetChannel(key: string): string {
	return `${key}:messages`;
}
