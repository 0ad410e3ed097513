/**
 * Runs `count` operations through `lanes` loops that each keep one operation in flight: 1 lane is
 * one at a time, 100 lanes on one client is a window of 100 outstanding commands, and 10 lanes on 10
 * clients is 10 connections in parallel. Each operation gets the next ticket, 0..count-1.
 */
export async function drive(
  count: number,
  lanes: number,
  operation: (ticket: number, lane: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async (id: number): Promise<void> => {
    while (next < count) {
      const ticket = next;
      next += 1;
      await operation(ticket, id);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, (_, id) => lane(id)));
}
