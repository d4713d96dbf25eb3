/**
 * ProjectionExpression evaluation: keeps the attributes at the given document paths and
 * the structure leading to them, as DynamoDB does. Selected list elements come back as a
 * list of just those elements, in index order (`l[3], l[1]` gives `[l[1], l[3]]`).
 */
import type { AttributeValue, Item } from '../model/types.js';
import type { Path, ProjectionAst } from './ast.js';
import { cloneValue } from './values.js';

type Node =
  | { leaf: AttributeValue }
  | { map: Map<string, Node> }
  | { list: Map<number, Node> };

function materialize(node: Node): AttributeValue {
  if ('leaf' in node) return cloneValue(node.leaf);
  if ('map' in node) {
    const m: Record<string, AttributeValue> = {};
    for (const [k, child] of node.map) m[k] = materialize(child);
    return { M: m };
  }
  const indexes = [...node.list.keys()].sort((a, b) => a - b);
  return { L: indexes.map((i) => materialize(node.list.get(i)!)) };
}

function insert(root: Map<string, Node>, item: Item, path: Path): void {
  const head = path[0];
  if (typeof head !== 'string' || !Object.prototype.hasOwnProperty.call(item, head)) return;
  // Check the whole path exists before building anything.
  const values: AttributeValue[] = [item[head]!];
  for (let i = 1; i < path.length; i++) {
    const seg = path[i]!;
    const cur = values[i - 1] as Record<string, any>;
    let nextValue: AttributeValue | undefined;
    if (typeof seg === 'number') {
      const l: AttributeValue[] | undefined = cur.L;
      nextValue = l !== undefined && seg < l.length ? l[seg] : undefined;
    } else {
      const m: Record<string, AttributeValue> | undefined = cur.M;
      nextValue = m !== undefined && Object.prototype.hasOwnProperty.call(m, seg) ? m[seg] : undefined;
    }
    if (nextValue === undefined) return;
    values.push(nextValue);
  }
  let children: Map<string | number, Node> = root as Map<string | number, Node>;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const existing = children.get(seg);
    if (existing !== undefined && 'leaf' in existing) return; // a shorter path already keeps it all
    if (i === path.length - 1) {
      children.set(seg, { leaf: values[i]! });
      return;
    }
    const nextIsIndex = typeof path[i + 1] === 'number';
    let node = existing;
    if (node === undefined || (nextIsIndex ? !('list' in node) : !('map' in node))) {
      node = nextIsIndex ? { list: new Map() } : { map: new Map() };
      children.set(seg, node);
    }
    children = ('list' in node ? node.list : (node as { map: Map<string, Node> }).map) as Map<string | number, Node>;
  }
}

/** The item reduced to the projected paths (a new object; the input is not touched). */
export function project(item: Item, ast: ProjectionAst): Item {
  const root = new Map<string, Node>();
  for (const path of ast) insert(root, item, path);
  const out: Item = {};
  for (const [k, node] of root) out[k] = materialize(node);
  return out;
}
