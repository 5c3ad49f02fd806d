// 130 nested if statements are within the nesting limit (each if counts one level).
module DeepIf(x: real) -> (y: real) {
    var r: real = 0.0;
if x > 0.0 {
if x > 1.0 {
if x > 2.0 {
if x > 3.0 {
if x > 4.0 {
if x > 5.0 {
if x > 6.0 {
if x > 7.0 {
if x > 8.0 {
if x > 9.0 {
if x > 10.0 {
if x > 11.0 {
if x > 12.0 {
if x > 13.0 {
if x > 14.0 {
if x > 15.0 {
if x > 16.0 {
if x > 17.0 {
if x > 18.0 {
if x > 19.0 {
if x > 20.0 {
if x > 21.0 {
if x > 22.0 {
if x > 23.0 {
if x > 24.0 {
if x > 25.0 {
if x > 26.0 {
if x > 27.0 {
if x > 28.0 {
if x > 29.0 {
if x > 30.0 {
if x > 31.0 {
if x > 32.0 {
if x > 33.0 {
if x > 34.0 {
if x > 35.0 {
if x > 36.0 {
if x > 37.0 {
if x > 38.0 {
if x > 39.0 {
if x > 40.0 {
if x > 41.0 {
if x > 42.0 {
if x > 43.0 {
if x > 44.0 {
if x > 45.0 {
if x > 46.0 {
if x > 47.0 {
if x > 48.0 {
if x > 49.0 {
if x > 50.0 {
if x > 51.0 {
if x > 52.0 {
if x > 53.0 {
if x > 54.0 {
if x > 55.0 {
if x > 56.0 {
if x > 57.0 {
if x > 58.0 {
if x > 59.0 {
if x > 60.0 {
if x > 61.0 {
if x > 62.0 {
if x > 63.0 {
if x > 64.0 {
if x > 65.0 {
if x > 66.0 {
if x > 67.0 {
if x > 68.0 {
if x > 69.0 {
if x > 70.0 {
if x > 71.0 {
if x > 72.0 {
if x > 73.0 {
if x > 74.0 {
if x > 75.0 {
if x > 76.0 {
if x > 77.0 {
if x > 78.0 {
if x > 79.0 {
if x > 80.0 {
if x > 81.0 {
if x > 82.0 {
if x > 83.0 {
if x > 84.0 {
if x > 85.0 {
if x > 86.0 {
if x > 87.0 {
if x > 88.0 {
if x > 89.0 {
if x > 90.0 {
if x > 91.0 {
if x > 92.0 {
if x > 93.0 {
if x > 94.0 {
if x > 95.0 {
if x > 96.0 {
if x > 97.0 {
if x > 98.0 {
if x > 99.0 {
if x > 100.0 {
if x > 101.0 {
if x > 102.0 {
if x > 103.0 {
if x > 104.0 {
if x > 105.0 {
if x > 106.0 {
if x > 107.0 {
if x > 108.0 {
if x > 109.0 {
if x > 110.0 {
if x > 111.0 {
if x > 112.0 {
if x > 113.0 {
if x > 114.0 {
if x > 115.0 {
if x > 116.0 {
if x > 117.0 {
if x > 118.0 {
if x > 119.0 {
if x > 120.0 {
if x > 121.0 {
if x > 122.0 {
if x > 123.0 {
if x > 124.0 {
if x > 125.0 {
if x > 126.0 {
if x > 127.0 {
if x > 128.0 {
if x > 129.0 {
r = x;
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
    y = r;
}
