// Imports: paths relative to the importing file, a library imported twice (directly and
// through another import) is loaded once, and imported enums, modules and properties' targets.
import "lib/shapes.chs";
import "lib/base.chs";

module Floor(s: Shape) -> (a: real) {
    a = Area(s, 2.0) + Pi();
}

property circle_bigger:
    forall size in [1, 10]: Area(Circle, size).a >= Area(Shape.Square, size).a;
